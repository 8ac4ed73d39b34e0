"""Name and address pools for the demo book (invented; phone numbers from Ofcom's drama ranges)."""

from __future__ import annotations

FEMALE_NAMES = (  # noqa: SIM905 - a word list reads better as text
    "Olivia Amelia Isla Ava Mia Grace Sophie Emily Lily Freya Charlotte Evie Poppy Ella Ruby Florence Harriet "
    "Eleanor Hannah Chloe Lucy Jessica Rebecca Katherine Fiona Morag Eilidh Niamh Aisha Priya Zara Fatima Margaret "
    "Susan Helen Patricia Janet Gillian Deborah Joanne Rachel Claire Nicola Laura Kirsty Siobhan"
).split()
MALE_NAMES = (  # noqa: SIM905 - a word list reads better as text
    "Oliver George Harry Jack Noah Charlie Thomas Oscar William James Henry Alexander Edward Samuel Joseph Daniel "
    "Matthew Andrew David Richard Robert Stephen Paul Mark Graham Ian Alistair Callum Ewan Hamish Rory Fraser Arjun "
    "Rohan Imran Omar Tariq Kwame Tobias Patrick Sean Liam Gareth Rhys Owen Neil"
).split()
SURNAMES = (  # noqa: SIM905 - a word list reads better as text
    "Smith Jones Taylor Brown Williams Wilson Johnson Davies Robinson Wright Thompson Evans Walker White Roberts "
    "Green Hall Wood Jackson Clarke Patel Khan Lewis James Phillips Mason Mitchell Rose Davis Rodriguez Cox "
    "Alexander Campbell Stewart MacDonald Scott Reid Murray Ross Paterson Fraser Hughes Kennedy Hussain Ahmed Begum "
    "Shah Singh Kaur Chowdhury Nowak Kowalski O'Brien Murphy Kelly Byrne Walsh Ashworth Butterworth Holt Greenwood "
    "Lord Barlow Hargreaves Sutcliffe Pickering Bennett Harrison Fletcher Chapman Kaye Lawson"
).split()

STREETS = {
    "LDN01": (
        ("Albion Road", "N16"),
        ("Amwell Street", "EC1R"),
        ("Lavender Hill", "SW11"),
        ("Bermondsey Street", "SE1"),
        ("Canonbury Park North", "N1"),
        ("Elgin Crescent", "W11"),
        ("Narrow Street", "E14"),
        ("Shooters Hill Road", "SE3"),
        ("Fortess Road", "NW5"),
        ("Clapham Manor Street", "SW4"),
        ("Mare Street", "E8"),
        ("Highbury New Park", "N5"),
    ),
    "MAN01": (
        ("Wilmslow Road", "M20"),
        ("Burton Road", "M20"),
        ("Beech Road", "M21"),
        ("Edge Street", "M4"),
        ("Chorlton Road", "M16"),
        ("Palatine Road", "M22"),
        ("Cheetham Hill Road", "M8"),
        ("Ashton Old Road", "M11"),
        ("Claremont Road", "M14"),
        ("Great Ancoats Street", "M4"),
    ),
    "EDI01": (
        ("Marchmont Road", "EH9"),
        ("Leith Walk", "EH6"),
        ("Comely Bank Avenue", "EH4"),
        ("Morningside Road", "EH10"),
        ("Dundas Street", "EH3"),
        ("Portobello High Street", "EH15"),
        ("Bruntsfield Place", "EH10"),
        ("Easter Road", "EH7"),
        ("Stockbridge Row", "EH3"),
    ),
}
CITY = {"LDN01": "London", "MAN01": "Manchester", "EDI01": "Edinburgh"}
BUSINESS_PHONE = {"LDN01": "+44 20 7946 0{:03d}", "MAN01": "+44 161 496 0{:03d}", "EDI01": "+44 131 496 0{:03d}"}

COMPANY_STEMS = (  # noqa: SIM905 - a word list reads better as text
    "Albion Thistle Pennine Kestrel Mersey Northgate Harbour Cobalt Brightwater Ironbridge Lowther Forth Calder "
    "Redbrick Ashgrove Meridian Caledon Wharfside Holloway Greyfriars Saltire Irwell Lambeth Quayside Beacon "
    "Fenwick Larchfield Blackfriars Corran Oakhurst Stanegate Tamarind"
).split()
COMPANY_TRADES = (
    "Logistics",
    "Engineering",
    "Dental Practice",
    "Software",
    "Bakery",
    "Architects",
    "Construction",
    "Catering",
    "Print & Design",
    "Consulting",
    "Veterinary Clinic",
    "Textiles",
    "Brewing Company",
    "Property Management",
    "Accountants",
    "Renewables",
)
EMAIL_DOMAINS = ("mail.example", "inbox.example", "post.example", "home.example")

TASK_TITLES = (
    "Call to discuss options for the maturing deposit",
    "Annual relationship review meeting",
    "Follow up on mortgage remortgage enquiry",
    "Chase signed KYC refresh form",
    "Introduce the Platinum Rewards Card",
    "Confirm new address with proof of residence",
    "Discuss ISA allowance before the tax year ends",
    "Send updated fee schedule",
    "Review savings rate after the base rate change",
    "Arrange meeting with the investment team",
    "Check overdraft usage and offer a personal loan",
    "Collect updated income evidence",
)
BUSINESS_TASK_TITLES = (
    "Review business loan covenants with the finance director",
    "Discuss treasury deposit for surplus cash",
    "Collect latest filed accounts",
    "Set up additional company cards for staff",
)
