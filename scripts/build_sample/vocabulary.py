"""Names and wording the sample's synthetic fields are drawn from; none of it comes from a real person."""

PII_TEMPLATES = {
    "email": (
        "My email is {v}.",
        "Please reply to {v}.",
        "You can contact me at {v}.",
        "Send updates to {v} please.",
    ),
    "phone": (
        "My number is {v}.",
        "Please call me back on {v}.",
        "You can reach me on {v}.",
        "Call me at {v}.",
    ),
    "card": ("My card number is {v}.", "Card number: {v}.", "It's the card {v}.", "The card is {v}."),
    "person": ("My name is {v}.", "This is {v}.", "Hi, {v} here.", "Account holder is {v}."),
    "order": ("This is about {v}.", "Reference: {v}.", "Regarding {v}.", "It's for {v}."),
}
GREETINGS = ("Hi,", "Hello,", "Hi there,", "Good morning,")
SIGN_OFFS = ("Thanks", "Thanks!", "Thank you.", "Cheers")
GENERIC_SUBJECTS = (
    "Help with my card",
    "Question about my account",
    "Problem with a payment",
    "Urgent: please help",
    "Support request",
    "Need help",
    "Issue with my money",
    "Quick question",
)

FIRST_NAMES = (
    "Maria", "Tom", "Aisha", "Wei", "Priya", "Lukas", "Sofia", "Mohammed", "Yuki", "Olga",
    "James", "Fatima", "Carlos", "Ingrid", "Kwame", "Mei", "Rahul", "Chloe", "Diego", "Amara",
    "Jonas", "Leila", "Hiroshi", "Emma", "Mateo", "Zanele", "Ivan", "Nour", "Sean", "Ana",
    "Oliver", "Keisha", "Arjun", "Elif", "Pierre", "Siobhan", "Tariq", "Hannah", "Dmitri", "Lucia",
)  # fmt: skip
LAST_NAMES = (
    "Garcia", "Becker", "Khan", "Zhang", "Patel", "Mueller", "Rossi", "Okafor", "Tanaka", "Ivanova",
    "Smith", "Haddad", "Silva", "Johansson", "Mensah", "Chen", "Sharma", "Dubois", "Hernandez", "Adeyemi",
    "Schmidt", "Rahimi", "Sato", "Wilson", "Lopez", "Dlamini", "Petrov", "Nasser", "Murphy", "Costa",
    "Brown", "Jackson", "Iyer", "Yilmaz", "Martin", "O'Brien", "Ali", "Cohen", "Novak", "Fernandez",
)  # fmt: skip
BUSINESS_TLDS = (".com", ".co.uk", ".de", ".io")
PERSONAL_DOMAINS = (
    "gmail.com",
    "outlook.com",
    "yahoo.co.uk",
    "hotmail.com",
    "icloud.com",
    "gmx.de",
    "proton.me",
)
NAME_PREFIXES = (
    "North", "Blue", "Silver", "Oak", "Harbor", "Summit", "Bright", "Iron", "Maple", "Red", "Clear", "Stone",
    "Green", "Golden", "Swift", "Cedar", "Lake", "Pine", "River", "Sun", "Falcon", "Crystal", "Atlas", "Nova",
)  # fmt: skip
NAME_CORES = (
    "field", "wind", "peak", "bridge", "gate", "light", "wave", "brook",
    "ridge", "point", "works", "line", "craft", "path", "crest", "vale",
)  # fmt: skip
NAME_SUFFIXES = (
    "Logistics", "Studio", "Ltd", "Labs", "Trading", "Consulting", "Foods", "Health",
    "GmbH", "Partners", "Media", "Systems", "Bakery", "Design", "Analytics", "Travel",
)  # fmt: skip
AGENT_NAMES = ("Sam Whitfield", "Nadia Rahman", "Leo Fischer", "Grace Owusu", "Ken Watanabe", "Isabel Moreno")

AGENT_REPLIES = (
    "Thanks for getting in touch. I've checked your account and passed this to the right team; "
    "you'll hear back from us within one working day.",
    "Sorry for the trouble. Could you confirm the last four digits of the card and roughly when this "
    "happened?",
    "Thank you for your patience. This should now be sorted - please let me know if anything still looks "
    "wrong.",
    "I understand how frustrating this is. I've raised it with our specialist team and will update you "
    "as soon as I hear back.",
)
AGENT_SIGNS = ("Best,", "Kind regards,", "Thanks,", "Cheers,")
PRIVATE_NOTES = (
    "Checked the logs, nothing unusual on our side.",
    "Escalated to Tier 2.",
    "Possible duplicate of an earlier ticket from this customer.",
    "Customer sounded upset on the phone - handle with care.",
)
QUOTED_AGENT_MAIL = (
    "Thanks for contacting Example Bank. Could you share a few more details so we can look into this?",
    "",
    "Best regards,",
    "Example Bank Support",
)
