"""Static vocabularies of the sample world: names, places, industries, site pages.

Everything here is plain data. Order matters (random draws index into these tuples), so
append rather than reorder if you want older seeds to keep producing the same worlds.
"""

from __future__ import annotations

# --------------------------------------------------------------------------- people

# Canonical first names -> common nicknames. Persons with one of these names sometimes
# type a nickname instead of the canonical name.
NICKNAMES: dict[str, tuple[str, ...]] = {
    "Robert": ("Bob", "Rob", "Bobby"),
    "William": ("Bill", "Will", "Billy"),
    "Elizabeth": ("Liz", "Beth", "Lizzie"),
    "Katherine": ("Kate", "Katie", "Kathy"),
    "Michael": ("Mike", "Mikey"),
    "James": ("Jim", "Jimmy", "Jamie"),
    "Jennifer": ("Jen", "Jenny"),
    "Richard": ("Rick", "Dick", "Rich"),
    "Margaret": ("Peggy", "Maggie", "Meg"),
    "Thomas": ("Tom", "Tommy"),
    "Christopher": ("Chris",),
    "Daniel": ("Dan", "Danny"),
    "Joseph": ("Joe", "Joey"),
    "Alexander": ("Alex",),
    "Samuel": ("Sam",),
    "Anthony": ("Tony",),
    "Patricia": ("Pat", "Trish", "Patty"),
    "Steven": ("Steve",),
    "Andrew": ("Andy", "Drew"),
    "Benjamin": ("Ben",),
    "Nicholas": ("Nick",),
    "Jonathan": ("Jon",),
    "Matthew": ("Matt",),
    "Deborah": ("Debbie", "Deb"),
    "Susan": ("Sue", "Suzy"),
    "Edward": ("Ed", "Eddie", "Ted"),
    "Charles": ("Charlie", "Chuck"),
    "Timothy": ("Tim",),
    "Gregory": ("Greg",),
    "Jeffrey": ("Jeff",),
    "Kenneth": ("Ken",),
    "Ronald": ("Ron",),
    "Donald": ("Don",),
    "Lawrence": ("Larry",),
    "Gerald": ("Jerry",),
    "Raymond": ("Ray",),
    "Douglas": ("Doug",),
    "Peter": ("Pete",),
    "Frederick": ("Fred",),
    "Victoria": ("Vicky", "Tori"),
    "Rebecca": ("Becky", "Becca"),
    "Jessica": ("Jess",),
    "Christine": ("Chris", "Chrissy"),
    "Kimberly": ("Kim",),
    "Pamela": ("Pam",),
    "Cynthia": ("Cindy",),
    "Barbara": ("Barb",),
    "Theresa": ("Terry", "Tess"),
    "Abigail": ("Abby",),
    "Samantha": ("Sam",),
    "Alexandra": ("Alex", "Lexi"),
    "Jacqueline": ("Jackie",),
    "Stephanie": ("Steph",),
    "Jonathon": ("Jon",),
    "Zachary": ("Zach",),
    "Joshua": ("Josh",),
    "Nathaniel": ("Nate", "Nathan"),
    "Catherine": ("Cathy", "Cat"),
    "Dorothy": ("Dot", "Dottie"),
    "Frances": ("Fran",),
    "Judith": ("Judy",),
    "Kristopher": ("Kris",),
    "Philip": ("Phil",),
    "Vincent": ("Vince",),
    "Leonard": ("Len", "Lenny"),
    "Maximilian": ("Max",),
}

# Hundreds of first names; the ones with nicknames come first.
FIRST_NAMES: tuple[str, ...] = tuple(dict.fromkeys(tuple(NICKNAMES) + (
    "Mary", "Linda", "David", "Sarah", "Karen", "Lisa", "Nancy", "Betty", "Sandra",
    "Ashley", "Emily", "Donna", "Michelle", "Carol", "Amanda", "Melissa", "Brian", "Kevin",
    "George", "Paul", "Mark", "Jason", "Ryan", "Jacob", "Gary", "Eric", "Stephen", "Larry",
    "Justin", "Scott", "Brandon", "Frank", "Jack", "Dennis", "Tyler", "Aaron", "Jose",
    "Adam", "Henry", "Nathan", "Zach", "Kyle", "Walter", "Harold", "Jeremy", "Ethan",
    "Carl", "Keith", "Roger", "Terry", "Sean", "Austin", "Arthur", "Noah", "Jesse", "Dylan",
    "Bryan", "Joe", "Jordan", "Billy", "Bruce", "Albert", "Willie", "Gabriel", "Logan",
    "Alan", "Juan", "Wayne", "Elijah", "Randy", "Roy", "Eugene", "Russell", "Bobby",
    "Mason", "Philip", "Louis", "Emma", "Olivia", "Ava", "Isabella", "Sophia", "Mia",
    "Charlotte", "Amelia", "Harper", "Evelyn", "Ella", "Madison", "Scarlett", "Grace",
    "Chloe", "Lily", "Aria", "Zoe", "Nora", "Hannah", "Layla", "Riley", "Lillian", "Addison",
    "Aubrey", "Ellie", "Stella", "Natalie", "Leah", "Hazel", "Violet", "Aurora", "Savannah",
    "Audrey", "Brooklyn", "Bella", "Claire", "Skylar", "Lucy", "Paisley", "Anna", "Caroline",
    "Nova", "Genesis", "Emilia", "Kennedy", "Maya", "Willow", "Kinsley", "Naomi", "Aaliyah",
    "Elena", "Sarah", "Ariana", "Allison", "Gabriella", "Alice", "Madelyn", "Cora", "Ruby",
    "Eva", "Serenity", "Autumn", "Adeline", "Hailey", "Gianna", "Valentina", "Isla", "Eliana",
    "Quinn", "Nevaeh", "Ivy", "Sadie", "Piper", "Lydia", "Alexa", "Josephine", "Emery",
    "Julia", "Delilah", "Arianna", "Vivian", "Kaylee", "Sophie", "Brielle", "Madeline",
    "Peyton", "Rylee", "Clara", "Hadley", "Melanie", "Mackenzie", "Reagan", "Adalynn",
    "Liliana", "Aubree", "Jade", "Katelyn", "Isabelle", "Natalia", "Raelynn", "Maria",
    "Athena", "Ximena", "Arya", "Leilani", "Taylor", "Faith", "Rose", "Kylie", "Mariah",
    "Ayla", "Andrea", "Morgan", "Heather", "Angela", "Brenda", "Amy", "Anna", "Virginia",
    "Kathleen", "Joyce", "Diane", "Julie", "Joan", "Evelyn", "Lauren", "Judy", "Megan",
    "Cheryl", "Andrea", "Hannah", "Martha", "Jacqueline", "Gloria", "Teresa", "Ann", "Sara",
    "Madison", "Kathryn", "Janice", "Jean", "Alice", "Judith", "Sophia", "Denise", "Amber",
    "Doris", "Marilyn", "Danielle", "Beverly", "Isabella", "Diana", "Brittany", "Natalie",
    "Charlotte", "Marie", "Kayla", "Alexis", "Lori", "Liam", "Lucas", "Oliver", "Aiden",
    "Caden", "Grayson", "Carter", "Sebastian", "Wyatt", "Jayden", "Luke", "Jackson", "Owen",
    "Hudson", "Connor", "Isaac", "Levi", "Julian", "Hunter", "Eli", "Landon", "Adrian",
    "Colton", "Jaxon", "Easton", "Cameron", "Evan", "Lincoln", "Ian", "Christian", "Cooper",
    "Asher", "Jace", "Parker", "Chase", "Bentley", "Dominic", "Xavier", "Jaxson", "Miles",
    "Josiah", "Leo", "Camden", "Carson", "Blake", "Cole", "Declan", "Bennett", "Brody",
    "Everett", "Rowan", "Silas", "Theo", "Emmett", "Harrison", "Graham", "Finn", "Ravi",
    "Priya", "Anil", "Sanjay", "Deepa", "Arjun", "Neha", "Rahul", "Wei", "Li", "Jun",
    "Hiroshi", "Yuki", "Mei", "Chen", "Omar", "Fatima", "Ahmed", "Aisha", "Hassan", "Leila",
    "Mohammed", "Yusuf", "Carlos", "Miguel", "Luis", "Sofia", "Camila", "Diego", "Javier",
    "Lucia", "Mateo", "Valeria", "Pierre", "Amelie", "Louis", "Chloe", "Mathieu", "Sophie",
    "Siobhan", "Niamh", "Ciaran", "Aoife", "Declan", "Eilidh", "Callum", "Hamish", "Fiona",
    "Alasdair", "Rhys", "Gareth", "Bethan", "Owain", "Dafydd", "Nigel", "Graham", "Clive",
    "Trevor", "Colin", "Ian", "Rupert", "Hugo", "Imogen", "Harriet", "Poppy", "Freya",
    "Olga", "Ivan", "Dmitri", "Katarzyna", "Piotr", "Marta", "Lars", "Ingrid", "Sven",
)))  # de-duplicated, order kept

LAST_NAMES: tuple[str, ...] = tuple(dict.fromkeys((
    "Smith", "Johnson", "Williams", "Brown", "Jones", "Garcia", "Miller", "Davis",
    "Rodriguez", "Martinez", "Hernandez", "Lopez", "Gonzalez", "Wilson", "Anderson",
    "Thomas", "Taylor", "Moore", "Jackson", "Martin", "Lee", "Perez", "Thompson", "White",
    "Harris", "Sanchez", "Clark", "Ramirez", "Lewis", "Robinson", "Walker", "Young", "Allen",
    "King", "Wright", "Scott", "Torres", "Nguyen", "Hill", "Flores", "Green", "Adams",
    "Nelson", "Baker", "Hall", "Rivera", "Campbell", "Mitchell", "Carter", "Roberts",
    "Gomez", "Phillips", "Evans", "Turner", "Diaz", "Parker", "Cruz", "Edwards", "Collins",
    "Reyes", "Stewart", "Morris", "Morales", "Murphy", "Cook", "Rogers", "Gutierrez",
    "Ortiz", "Morgan", "Cooper", "Peterson", "Bailey", "Reed", "Kelly", "Howard", "Ramos",
    "Kim", "Cox", "Ward", "Richardson", "Watson", "Brooks", "Chavez", "Wood", "James",
    "Bennett", "Gray", "Mendoza", "Ruiz", "Hughes", "Price", "Alvarez", "Castillo",
    "Sanders", "Patel", "Myers", "Long", "Ross", "Foster", "Jimenez", "Powell", "Jenkins",
    "Perry", "Russell", "Sullivan", "Bell", "Coleman", "Butler", "Henderson", "Barnes",
    "Gonzales", "Fisher", "Vasquez", "Simmons", "Romero", "Jordan", "Patterson", "Alexander",
    "Hamilton", "Graham", "Reynolds", "Griffin", "Wallace", "Moreno", "West", "Cole",
    "Hayes", "Bryant", "Herrera", "Gibson", "Ellis", "Tran", "Medina", "Aguilar", "Stevens",
    "Murray", "Ford", "Castro", "Marshall", "Owens", "Harrison", "Fernandez", "McDonald",
    "Woods", "Washington", "Kennedy", "Wells", "Vargas", "Henry", "Chen", "Freeman", "Webb",
    "Tucker", "Guzman", "Burns", "Crawford", "Olson", "Simpson", "Porter", "Hunter",
    "Gordon", "Mendez", "Silva", "Shaw", "Snyder", "Mason", "Dixon", "Munoz", "Hunt",
    "Hicks", "Holmes", "Palmer", "Wagner", "Black", "Robertson", "Boyd", "Rose", "Stone",
    "Salazar", "Fox", "Warren", "Mills", "Meyer", "Rice", "Schmidt", "Garza", "Daniels",
    "Ferguson", "Nichols", "Stephens", "Soto", "Weaver", "Ryan", "Gardner", "Payne",
    "Grant", "Dunn", "Kelley", "Spencer", "Hawkins", "Arnold", "Pierce", "Vazquez", "Hansen",
    "Peters", "Santos", "Hart", "Bradley", "Knight", "Elliott", "Cunningham", "Duncan",
    "Armstrong", "Hudson", "Carroll", "Lane", "Riley", "Andrews", "Alvarado", "Ray",
    "Delgado", "Berry", "Perkins", "Hoffman", "Johnston", "Matthews", "Pena", "Richards",
    "Contreras", "Willis", "Carpenter", "Lawrence", "Sandoval", "Guerrero", "George",
    "Chapman", "Rios", "Estrada", "Ortega", "Watkins", "Greene", "Nunez", "Wheeler",
    "Valdez", "Harper", "Burke", "Larson", "Santiago", "Maldonado", "Morrison", "Franklin",
    "Carlson", "Austin", "Dominguez", "Carr", "Lawson", "Jacobs", "O'Brien", "Lynch",
    "Singh", "Vega", "Bishop", "Montgomery", "Oliver", "Jensen", "Harvey", "Williamson",
    "Gilbert", "Dean", "Sims", "Espinoza", "Howell", "Li", "Wong", "Reid", "Hanson", "Le",
    "McCoy", "Garrett", "Burton", "Fuller", "Wang", "Weber", "Welch", "Rojas", "Lucas",
    "Marquez", "Fields", "Park", "Yang", "Little", "Banks", "Padilla", "Day", "Walsh",
    "Bowman", "Schultz", "Luna", "Fowler", "Mejia", "Davidson", "Acosta", "Brewer", "May",
    "Holland", "Juarez", "Newman", "Pearson", "Curtis", "Cortez", "Douglas", "Schneider",
    "Joseph", "Barrett", "Navarro", "Figueroa", "Keller", "Avila", "Wade", "Molina",
    "Stanley", "Hopkins", "Campos", "Barnett", "Bates", "Chambers", "Caldwell", "Beck",
    "Lambert", "Miranda", "Byrd", "Craig", "Ayala", "Lowe", "Frazier", "Powers", "Neal",
    "Leonard", "Gregory", "Carrillo", "Sutton", "Fleming", "Rhodes", "Shelton", "Schwartz",
    "Norris", "Jennings", "Watts", "Duran", "Walters", "Cohen", "McDaniel", "Moran",
    "Parks", "Steele", "Vaughn", "Becker", "Holt", "Deleon", "Barker", "Terry", "Hale",
    "Leon", "Hail", "Benson", "Haynes", "Horton", "Miles", "Lyons", "Pham", "Graves", "Bush",
    "Thornton", "Wolfe", "Warner", "Cabrera", "McKinney", "Mann", "Zimmerman", "Dawson",
    "Lara", "Fletcher", "Page", "McCarthy", "Love", "Robles", "Cervantes", "Solis",
    "Erickson", "Reeves", "Chang", "Klein", "Salinas", "Fuentes", "Baldwin", "Daniel",
    "Simon", "Velasquez", "Hardy", "Higgins", "Aguirre", "Lin", "Cummings", "Chandler",
    "Sharp", "Barber", "Bowen", "Ochoa", "Dennis", "Robbins", "Liu", "Ramsey", "Francis",
    "Griffith", "Paul", "Blair", "O'Connor", "Cardenas", "Pacheco", "Cross", "Calderon",
    "Quinn", "Moss", "Swanson", "Chan", "Rivas", "Khan", "Rodgers", "Serrano", "Fitzgerald",
    "Rosales", "Stevenson", "Christensen", "Manning", "Gill", "Curry", "McLaughlin",
    "Harmon", "McGee", "Gross", "Doyle", "Garner", "Newton", "Burgess", "Reese", "Walton",
    "Blake", "Trujillo", "Adkins", "Brady", "Goodman", "Roman", "Webster", "Goodwin",
    "Fischer", "Huang", "Potter", "Delacruz", "Montoya", "Todd", "Wu", "Hines", "Mullins",
    "Castaneda", "Malone", "Cannon", "Tate", "Mack", "Sherman", "Hubbard", "Hodges",
    "Zhang", "Guerra", "Wolf", "Valencia", "Saunders", "Franco", "Rowe", "Gallagher",
    "Farmer", "Hammond", "Hampton", "Townsend", "Ingram", "Wise", "Gallegos", "Clarke",
    "Barton", "Schroeder", "Maxwell", "Waters", "Logan", "Camacho", "Strickland", "Norman",
    "Person", "Colon", "Parsons", "Frank", "Harrington", "Glover", "Osborne", "Buchanan",
    "Casey", "Floyd", "Patton", "Ibarra", "Ball", "Tyler", "Suarez", "Bowers", "Orozco",
    "Salas", "Cobb", "Gibbs", "Andrade", "Bauer", "Conner", "Moody", "Escobar", "McGuire",
    "Lloyd", "Mueller", "Hartman", "French", "Kramer", "McBride", "Pope", "Lindsey",
    "Velazquez", "Norton", "McCormick", "Sparks", "Flynn", "Yates", "Hogan", "Marsh",
    "Macias", "Villanueva", "Zamora", "Pratt", "Stokes", "Owen", "Ballard", "Lang",
    "Brock", "Villarreal", "Charles", "Drake", "Barrera", "Cain", "Patrick", "Pineda",
    "Burnett", "Mercado", "Santana", "Shepherd", "Bautista", "Ali", "Shaffer", "Lamb",
    "Trevino", "McKenzie", "Hess", "Beil", "Olsen", "Cochran", "Morton", "Nash", "Wilkins",
    "Petersen", "Briggs", "Shah", "Roth", "Nicholson", "Holloway", "Lozano", "Flowers",
    "Rangel", "Hoover", "Short", "Arias", "Mora", "Valenzuela", "Bryan", "Meyers", "Weiss",
    "Underwood", "Bass", "Greer", "Summers", "Houston", "Carson", "Morrow", "Clayton",
    "Whitaker", "Decker", "Yoder", "Collier", "Zuniga", "Carey", "Wilcox", "Melendez",
    "Poole", "Roberson", "Larsen", "Conley", "Davenport", "Copeland", "Massey", "Lam",
    "Huff", "Rocha", "Cameron", "Jefferson", "Hood", "Monroe", "Anthony", "Pittman",
    "Huynh", "Randall", "Singleton", "Kirk", "Combs", "Mathis", "Christian", "Skinner",
    "Bradford", "Richard", "Galvan", "Wall", "Boone", "Kirby", "Wilkinson", "Bridges",
    "Bruce", "Atkinson", "Velez", "Meza", "Roy", "Vincent", "York", "Hodge", "Villa",
    "Abbott", "Allison", "Tapia", "Gates", "Chase", "Sosa", "Sweeney", "Farrell", "Wyatt",
    "Dalton", "Horn", "Barron", "Phelps", "Yu", "Dickerson", "Heath", "Foley", "Atkins",
    "Mathews", "Bonilla", "Acevedo", "Benitez", "Zavala", "Hensley", "Glenn", "Cisneros",
    "Harrell", "Shields", "Rubio", "Choi", "Huffman", "Boyer", "Garrison", "Arroyo", "Bond",
    "Kane", "Hancock", "Callahan", "Dillon", "Cline", "Wiggins", "Grimes", "Arellano",
    "Melton", "O'Neill", "Savage", "Ho", "Beltran", "Pitts", "Parrish", "Ponce", "Rich",
    "Booth", "Koch", "Golden", "Ware", "Brennan", "McDowell", "Marks", "Cantu", "Humphrey",
    "Baxter", "Sawyer", "Clay", "Tanner", "Hutchinson", "Kaur", "Berg", "Wiley", "Gilmore",
    "Russo", "Villegas", "Hobbs", "Keith", "Wilkerson", "Ahmed", "Beard", "McClain",
    "Montes", "Mata", "Rosario", "Vang", "Walter", "Henson", "O'Donnell", "Mayer",
    "Fraser", "MacLeod", "Campbell-Jones", "Tremblay", "Gagnon", "Roy", "Cote", "Bouchard",
    "Gauthier", "Morin", "Lavoie", "Fortin", "Gagne", "Ouellet", "Pelletier", "Belanger",
    "Davies", "Evans", "Thomas", "Roberts", "Hughes", "Lewis", "Morgan", "Griffiths",
    "Owen", "Price", "Jenkins", "Rees", "Ahmed", "Hussain", "Begum", "Mahmood", "Iqbal",
)))

# Job titles with a decision-maker flag (decision makers convert more often).
TITLES: tuple[tuple[str, bool], ...] = (
    ("CEO", True), ("Owner", True), ("President", True), ("Managing Partner", True),
    ("Founder", True), ("COO", True), ("CFO", True), ("CTO", True), ("CIO", True),
    ("VP of Operations", True), ("VP of IT", True), ("Director of IT", True),
    ("IT Director", True), ("Head of IT", True), ("IT Manager", True),
    ("Operations Manager", True), ("Practice Manager", True), ("Office Manager", True),
    ("Controller", True), ("General Manager", True),
    ("Systems Administrator", False), ("Network Administrator", False),
    ("IT Specialist", False), ("IT Coordinator", False), ("Office Administrator", False),
    ("Executive Assistant", False), ("Accountant", False), ("Paralegal", False),
    ("Marketing Manager", False), ("HR Manager", False), ("Project Manager", False),
    ("Business Analyst", False), ("Administrative Assistant", False),
    ("Bookkeeper", False), ("Compliance Officer", False), ("Facilities Manager", False),
    ("Sales Manager", False), ("Nurse Manager", False), ("Engineer", False),
    ("Consultant", False),
)

STUDENT_TITLES: tuple[str, ...] = (
    "Student", "student", "IT Student", "Graduate Student", "Intern", "MBA Candidate",
    "Undergraduate", "Research Assistant",
)

# --------------------------------------------------------------------------- companies

# industry -> (sampling weight, in the target set?, LinkedIn's label, name words)
INDUSTRIES: dict[str, tuple[float, bool, str, tuple[str, ...]]] = {
    "Healthcare": (0.12, True, "Hospitals and Health Care",
                   ("Medical", "Health", "Family Practice", "Dental", "Clinic", "Care",
                    "Physical Therapy", "Pediatrics", "Orthopedics", "Wellness")),
    "Legal": (0.09, True, "Law Practice",
              ("Law", "Legal", "Law Group", "Attorneys", "Law Offices", "& Associates")),
    "Accounting": (0.08, True, "Accounting",
                   ("CPA", "Accounting", "Tax & Advisory", "Bookkeeping", "CPAs",
                    "Financial Advisors")),
    "Financial Services": (0.08, True, "Financial Services",
                           ("Capital", "Wealth Management", "Financial", "Credit Union",
                            "Insurance", "Investments", "Lending")),
    "Manufacturing": (0.11, True, "Manufacturing",
                      ("Manufacturing", "Industries", "Fabrication", "Machine Works",
                       "Plastics", "Components", "Metalworks", "Tooling")),
    "Construction": (0.09, False, "Construction",
                     ("Construction", "Builders", "Contracting", "Roofing", "Electric",
                      "Plumbing", "Excavating", "Homes")),
    "Retail": (0.09, False, "Retail",
               ("Outfitters", "Supply", "Market", "Goods", "Boutique", "Hardware",
                "Furniture", "Trading")),
    "Education": (0.06, False, "Education Administration Programs",
                  ("Academy", "Learning Center", "Montessori", "Tutoring", "School",
                   "Institute")),
    "Nonprofit": (0.06, False, "Non-profit Organizations",
                  ("Foundation", "Alliance", "Community Services", "Society", "Fund",
                   "Coalition")),
    "Real Estate": (0.08, False, "Real Estate",
                    ("Realty", "Properties", "Real Estate", "Property Management",
                     "Homes Group", "Land Co")),
    "Technology": (0.07, False, "Software Development",
                   ("Software", "Labs", "Digital", "Systems", "Analytics", "Tech")),
    "Logistics": (0.04, False, "Transportation, Logistics, Supply Chain and Storage",
                  ("Logistics", "Freight", "Transport", "Distribution", "Trucking")),
    "Hospitality": (0.03, False, "Hospitality",
                    ("Hotels", "Restaurant Group", "Catering", "Inn", "Hospitality")),
}

COMPANY_ADJECTIVES: tuple[str, ...] = (
    "Summit", "Pinnacle", "Evergreen", "Northstar", "Bluewater", "Redwood", "Ironwood",
    "Silver", "Golden", "Cedar", "Harbor", "Lakeside", "Riverbend", "Granite", "Keystone",
    "Liberty", "Heritage", "Frontier", "Prairie", "Coastal", "Highland", "Meridian",
    "Sterling", "Crescent", "Oakridge", "Maple", "Willow", "Aspen", "Cascade", "Horizon",
    "Beacon", "Compass", "Anchor", "Falcon", "Eagle", "Pioneer", "Patriot", "Union",
    "Central", "Premier", "Allied", "United", "First", "Apex", "Vantage", "Crown",
    "Sapphire", "Emerald", "Copper", "Stonebridge", "Brightway", "Clearview", "Fairway",
    "Greenfield", "Westbrook", "Eastgate", "Southpoint", "Northgate", "Hillcrest",
    "Brookside", "Sunrise", "Trinity", "Bayview", "Canyon", "Mesa", "Sierra", "Atlas",
    "Orion", "Vertex", "Nova", "Quantum", "Polaris", "Regal", "Royal", "Noble", "Elm",
    "Birch", "Juniper", "Magnolia", "Sequoia", "Timberline", "Ridgeway", "Parkside",
    "Kingsway", "Thames", "Pennine", "Cotswold", "Laurentian", "Fraser", "Rideau",
)

# Legal suffixes by country (None = written without a suffix).
LEGAL_SUFFIXES: dict[str, tuple[str, ...]] = {
    "US": ("Inc", "Inc.", "LLC", "Corp", "Co.", "Corporation", "LLP"),
    "CA": ("Inc.", "Inc", "Ltd.", "Ltd", "Corp.", "Limited"),
    "GB": ("Ltd", "Ltd.", "Limited", "LLP", "plc", "& Co."),
}

# --------------------------------------------------------------------------- places

# (country, region ISO subdivision code, city, weight, tz standard offset hours,
#  dst rule ("us" / "uk" / "none"), postal prefix, phone area codes)
# US postal prefix = first three ZIP digits, CA = forward sortation area, GB = outward code
# stem; UK "area codes" are national numbers without the trunk 0.
CITIES: tuple[tuple[str, str, str, float, int, str, str, tuple[str, ...]], ...] = (
    ("US", "CA", "Los Angeles", 4.0, -8, "us", "900", ("213", "310", "323", "818")),
    ("US", "CA", "San Diego", 2.0, -8, "us", "921", ("619", "858")),
    ("US", "CA", "San Francisco", 2.0, -8, "us", "941", ("415", "628")),
    ("US", "CA", "San Jose", 1.5, -8, "us", "951", ("408", "669")),
    ("US", "CA", "Sacramento", 1.0, -8, "us", "958", ("916",)),
    ("US", "WA", "Seattle", 2.0, -8, "us", "981", ("206", "425")),
    ("US", "WA", "Spokane", 0.5, -8, "us", "992", ("509",)),
    ("US", "OR", "Portland", 1.5, -8, "us", "972", ("503", "971")),
    ("US", "NV", "Las Vegas", 1.0, -8, "us", "891", ("702",)),
    ("US", "AZ", "Phoenix", 2.0, -7, "none", "850", ("602", "480")),
    ("US", "AZ", "Tucson", 0.6, -7, "none", "857", ("520",)),
    ("US", "UT", "Salt Lake City", 0.8, -7, "us", "841", ("801",)),
    ("US", "CO", "Denver", 1.8, -7, "us", "802", ("303", "720")),
    ("US", "CO", "Colorado Springs", 0.6, -7, "us", "809", ("719",)),
    ("US", "ID", "Boise", 0.5, -7, "us", "837", ("208",)),
    ("US", "NM", "Albuquerque", 0.5, -7, "us", "871", ("505",)),
    ("US", "MT", "Billings", 0.2, -7, "us", "591", ("406",)),
    ("US", "AK", "Anchorage", 0.2, -9, "us", "995", ("907",)),
    ("US", "HI", "Honolulu", 0.3, -10, "none", "968", ("808",)),
    ("US", "TX", "Houston", 3.0, -6, "us", "770", ("713", "281", "832")),
    ("US", "TX", "Dallas", 3.0, -6, "us", "752", ("214", "469", "972")),
    ("US", "TX", "Austin", 2.0, -6, "us", "787", ("512", "737")),
    ("US", "TX", "San Antonio", 1.5, -6, "us", "782", ("210",)),
    ("US", "IL", "Chicago", 3.5, -6, "us", "606", ("312", "773", "872")),
    ("US", "MN", "Minneapolis", 1.5, -6, "us", "554", ("612", "952")),
    ("US", "MO", "St. Louis", 1.2, -6, "us", "631", ("314",)),
    ("US", "MO", "Kansas City", 1.0, -6, "us", "641", ("816",)),
    ("US", "WI", "Milwaukee", 1.0, -6, "us", "532", ("414",)),
    ("US", "OK", "Oklahoma City", 0.7, -6, "us", "731", ("405",)),
    ("US", "NE", "Omaha", 0.6, -6, "us", "681", ("402",)),
    ("US", "TN", "Nashville", 1.2, -6, "us", "372", ("615", "629")),
    ("US", "LA", "New Orleans", 0.7, -6, "us", "701", ("504",)),
    ("US", "IA", "Des Moines", 0.5, -6, "us", "503", ("515",)),
    ("US", "KS", "Wichita", 0.4, -6, "us", "672", ("316",)),
    ("US", "MS", "Jackson", 0.3, -6, "us", "392", ("601",)),
    ("US", "NY", "New York", 5.0, -5, "us", "100", ("212", "646", "917", "718")),
    ("US", "NY", "Buffalo", 0.7, -5, "us", "142", ("716",)),
    ("US", "NY", "Rochester", 0.5, -5, "us", "146", ("585",)),
    ("US", "NJ", "Newark", 1.2, -5, "us", "071", ("973", "862")),
    ("US", "NJ", "Jersey City", 0.8, -5, "us", "073", ("201", "551")),
    ("US", "MA", "Boston", 2.5, -5, "us", "021", ("617", "857")),
    ("US", "MA", "Worcester", 0.5, -5, "us", "016", ("508",)),
    ("US", "PA", "Philadelphia", 2.0, -5, "us", "191", ("215", "267")),
    ("US", "PA", "Pittsburgh", 1.0, -5, "us", "152", ("412",)),
    ("US", "FL", "Miami", 2.0, -5, "us", "331", ("305", "786")),
    ("US", "FL", "Tampa", 1.5, -5, "us", "336", ("813",)),
    ("US", "FL", "Orlando", 1.5, -5, "us", "328", ("407", "321")),
    ("US", "FL", "Jacksonville", 0.9, -5, "us", "322", ("904",)),
    ("US", "GA", "Atlanta", 2.5, -5, "us", "303", ("404", "678", "770")),
    ("US", "NC", "Charlotte", 1.5, -5, "us", "282", ("704", "980")),
    ("US", "NC", "Raleigh", 1.2, -5, "us", "276", ("919", "984")),
    ("US", "VA", "Richmond", 0.8, -5, "us", "232", ("804",)),
    ("US", "VA", "Arlington", 1.0, -5, "us", "222", ("703", "571")),
    ("US", "MD", "Baltimore", 1.0, -5, "us", "212", ("410", "443")),
    ("US", "DC", "Washington", 1.2, -5, "us", "200", ("202",)),
    ("US", "OH", "Columbus", 1.2, -5, "us", "432", ("614",)),
    ("US", "OH", "Cleveland", 1.0, -5, "us", "441", ("216",)),
    ("US", "OH", "Cincinnati", 0.9, -5, "us", "452", ("513",)),
    ("US", "MI", "Detroit", 1.5, -5, "us", "482", ("313", "248")),
    ("US", "MI", "Grand Rapids", 0.5, -5, "us", "495", ("616",)),
    ("US", "IN", "Indianapolis", 1.0, -5, "us", "462", ("317",)),
    ("US", "CT", "Hartford", 0.6, -5, "us", "061", ("860",)),
    ("US", "SC", "Charleston", 0.5, -5, "us", "294", ("843",)),
    ("US", "KY", "Louisville", 0.6, -5, "us", "402", ("502",)),
    ("US", "WV", "Charleston", 0.2, -5, "us", "253", ("304",)),
    ("US", "ME", "Portland", 0.3, -5, "us", "041", ("207",)),
    ("CA", "ON", "Toronto", 5.0, -5, "us", "M5V", ("416", "647", "437")),
    ("CA", "ON", "Ottawa", 1.2, -5, "us", "K1P", ("613", "343")),
    ("CA", "ON", "Mississauga", 1.0, -5, "us", "L5B", ("905", "289")),
    ("CA", "ON", "Hamilton", 0.5, -5, "us", "L8P", ("905",)),
    ("CA", "ON", "London", 0.4, -5, "us", "N6A", ("519",)),
    ("CA", "BC", "Vancouver", 2.5, -8, "us", "V6B", ("604", "778")),
    ("CA", "BC", "Victoria", 0.5, -8, "us", "V8W", ("250",)),
    ("CA", "AB", "Calgary", 1.5, -7, "us", "T2P", ("403", "587")),
    ("CA", "AB", "Edmonton", 1.2, -7, "us", "T5J", ("780", "587")),
    ("CA", "QC", "Montreal", 2.0, -5, "us", "H3B", ("514", "438")),
    ("CA", "QC", "Quebec City", 0.4, -5, "us", "G1R", ("418",)),
    ("CA", "MB", "Winnipeg", 0.6, -6, "us", "R3C", ("204",)),
    ("CA", "SK", "Saskatoon", 0.3, -6, "none", "S7K", ("306",)),
    ("CA", "NS", "Halifax", 0.4, -4, "us", "B3J", ("902",)),
    ("GB", "ENG", "London", 6.0, 0, "uk", "EC", ("20",)),
    ("GB", "ENG", "Manchester", 1.5, 0, "uk", "M", ("161",)),
    ("GB", "ENG", "Birmingham", 1.5, 0, "uk", "B", ("121",)),
    ("GB", "ENG", "Leeds", 0.9, 0, "uk", "LS", ("113",)),
    ("GB", "ENG", "Bristol", 0.8, 0, "uk", "BS", ("117",)),
    ("GB", "ENG", "Liverpool", 0.7, 0, "uk", "L", ("151",)),
    ("GB", "ENG", "Sheffield", 0.5, 0, "uk", "S", ("114",)),
    ("GB", "ENG", "Newcastle upon Tyne", 0.5, 0, "uk", "NE", ("191",)),
    ("GB", "ENG", "Reading", 0.5, 0, "uk", "RG", ("118",)),
    ("GB", "ENG", "Cambridge", 0.4, 0, "uk", "CB", ("1223",)),
    ("GB", "SCT", "Glasgow", 0.8, 0, "uk", "G", ("141",)),
    ("GB", "SCT", "Edinburgh", 0.8, 0, "uk", "EH", ("131",)),
    ("GB", "WLS", "Cardiff", 0.5, 0, "uk", "CF", ("29",)),
    ("GB", "NIR", "Belfast", 0.4, 0, "uk", "BT", ("28",)),
)

# Sales territories by (country, region).
US_WEST = {"CA", "WA", "OR", "NV", "AZ", "UT", "CO", "ID", "NM", "MT", "AK", "HI"}
US_CENTRAL = {"TX", "IL", "MN", "MO", "WI", "OK", "NE", "TN", "LA", "IA", "KS", "MS"}
TERRITORIES: tuple[str, ...] = ("US-West", "US-Central", "US-East", "Canada", "UK")
SEGMENTS: tuple[str, ...] = ("SMB", "Mid-Market")

# Regions the business does not serve on site (remote only): a fit penalty.
UNSERVED_REGIONS = {"AK", "HI", "MT", "NM", "MS", "WV", "ME", "QC", "NS", "SK", "NIR"}

COUNTRY_NAMES = {"US": "United States", "CA": "Canada", "GB": "United Kingdom"}
# How each form platform writes the country (value lists sampled per row).
COUNTRY_SPELLINGS = {
    "iso": {"US": ("US",), "CA": ("CA",), "GB": ("GB",)},
    "name": {"US": ("United States",), "CA": ("Canada",), "GB": ("United Kingdom",)},
    "typed": {"US": ("United States", "USA", "US", "usa", "U.S.", "United States of America"),
              "CA": ("Canada", "CA", "canada", "CAN"),
              "GB": ("United Kingdom", "UK", "GB", "England", "uk")},
}

# --------------------------------------------------------------------------- offer

SERVICES: tuple[str, ...] = (
    "Managed IT", "Cybersecurity", "Cloud Migration", "Helpdesk", "Compliance", "Backup & DR",
)
CORE_SERVICES = {"Managed IT", "Cybersecurity", "Helpdesk", "Backup & DR"}
SMALL_COMPANY_SERVICES = {"Managed IT", "Helpdesk"}
BUDGETS: tuple[str, ...] = ("<1k", "1k-5k", "5k-20k", "20k+")
TIMELINES: tuple[str, ...] = ("ASAP", "1-3 months", "3-6 months", "Just researching")
# Employee ranges as platforms print them (upper bound inclusive).
EMPLOYEE_RANGES: tuple[tuple[int, str], ...] = (
    (10, "1-10"), (50, "11-50"), (200, "51-200"), (500, "201-500"), (1000, "501-1000"),
    (10**9, "1001-5000"),
)

FREE_MAIL: tuple[tuple[str, float], ...] = (
    ("gmail.com", 0.45), ("yahoo.com", 0.14), ("outlook.com", 0.14), ("hotmail.com", 0.11),
    ("icloud.com", 0.10), ("aol.com", 0.06),
)
ROLE_LOCALS: tuple[str, ...] = ("info", "sales", "office", "admin")
PLUS_TAGS: tuple[str, ...] = ("promo", "work", "leads", "it", "newsletter", "vendors")

# --------------------------------------------------------------------------- junk

COMPETITORS: tuple[tuple[str, str], ...] = (
    ("Netgain Managed Services", "netgainmsp.com"),
    ("Bluecore IT Solutions", "bluecoreit.com"),
    ("Shieldwall Cyber", "shieldwallcyber.com"),
    ("TechBridge Partners", "techbridgepartners.net"),
    ("Clearpath Networks", "clearpathnetworks.io"),
    ("Anchor Point IT", "anchorpoint-it.co.uk"),
    ("MapleStack Technologies", "maplestack.ca"),
)
UNIVERSITIES: tuple[tuple[str, str], ...] = (
    ("State University", "stateu.edu"), ("Western Technical College", "wtc.edu"),
    ("Lakeshore Community College", "lakeshore.edu"), ("Northern Polytechnic", "npoly.edu"),
    ("Riverside University", "riverside.edu"), ("Eastern Institute of Technology", "eit.edu"),
)
SPAM_TLDS: tuple[str, ...] = ("xyz", "top", "ru", "info", "biz", "click", "site", "online")
SPAM_COMPANIES: tuple[str, ...] = (
    "SEO Services", "Web Design Agency", "Crypto Investments", "Best Leads Ltd",
    "Marketing Pro", "", "Digital Growth", "Backlinks4U",
)
SPAM_MESSAGES: tuple[str, ...] = (
    "Boost your rankings today http://{d}/seo",
    "We can get you 1000 leads per week! Visit https://{d}",
    "Cheap backlinks available https://{d}/offer",
    "Earn $5000 weekly from home http://{d}",
    "Check my site https://www.{d}/promo",
)
TEST_NAMES: tuple[tuple[str, str], ...] = (
    ("Test", "Test"), ("test", "test"), ("Test", "User"), ("asdf", "asdf"), ("John", "Doe"),
    ("Testing", "123"),
)
TEST_EMAILS: tuple[str, ...] = (
    "test@test.com", "asdf@asdf.com", "test@example.com", "test123@gmail.com",
    "noreply@test.com",
)
# The placeholder phone that test entries type over and over.
PLACEHOLDER_PHONE = "555-555-5555"
TEST_PHONES: tuple[str, ...] = (PLACEHOLDER_PHONE, PLACEHOLDER_PHONE, PLACEHOLDER_PHONE,
                                "1234567890", "0000000000", "(555) 555-5555")

# --------------------------------------------------------------------------- website

OUR_COMPANY = "Ironbridge IT"
OUR_DOMAIN = "ironbridge-it.com"
OUR_SITE = f"https://www.{OUR_DOMAIN}"

# Page catalogue: (path, title, category). Categories drive intent-dependent browsing.
PAGES: tuple[tuple[str, str, str], ...] = (
    ("/", "Ironbridge IT | Managed IT & Cybersecurity", "home"),
    ("/services/managed-it", "Managed IT Services", "services"),
    ("/services/cybersecurity", "Cybersecurity Services", "services"),
    ("/services/cloud", "Cloud Migration", "services"),
    ("/services/helpdesk", "24/7 Helpdesk", "services"),
    ("/services/compliance", "Compliance (HIPAA, SOC 2, PCI)", "services"),
    ("/services/backup-dr", "Backup & Disaster Recovery", "services"),
    ("/pricing", "Pricing", "pricing"),
    ("/case-studies/regional-clinic-hipaa", "Case Study: Regional Clinic", "case"),
    ("/case-studies/law-firm-ransomware", "Case Study: Law Firm Ransomware Recovery", "case"),
    ("/case-studies/manufacturer-cloud", "Case Study: Manufacturer Goes Cloud", "case"),
    ("/case-studies/cpa-firm-helpdesk", "Case Study: CPA Firm Helpdesk", "case"),
    ("/case-studies/nonprofit-m365", "Case Study: Nonprofit Microsoft 365", "case"),
    ("/case-studies/credit-union-soc2", "Case Study: Credit Union SOC 2", "case"),
    ("/blog/ransomware-checklist", "Ransomware Checklist for Small Business", "blog"),
    ("/blog/msp-vs-in-house-it", "MSP vs In-House IT", "blog"),
    ("/blog/what-is-mfa", "What Is MFA?", "blog"),
    ("/blog/backup-3-2-1-rule", "The 3-2-1 Backup Rule", "blog"),
    ("/blog/hipaa-it-requirements", "HIPAA IT Requirements", "blog"),
    ("/blog/phishing-training", "Phishing Training That Works", "blog"),
    ("/blog/cloud-cost-tips", "Cutting Cloud Costs", "blog"),
    ("/blog/windows-10-end-of-life", "Windows 10 End of Life", "blog"),
    ("/blog/it-budget-template", "IT Budget Template", "blog"),
    ("/blog/cyber-insurance", "Cyber Insurance Requirements", "blog"),
    ("/blog/password-managers", "Choosing a Password Manager", "blog"),
    ("/blog/remote-work-security", "Remote Work Security", "blog"),
    ("/about", "About Us", "about"),
    ("/contact", "Contact Us", "contact"),
    ("/demo", "Book a Demo", "demo"),
    ("/webinars", "Webinars", "webinars"),
)
PAGE_CATEGORIES: tuple[str, ...] = (
    "home", "services", "pricing", "case", "blog", "about", "contact", "demo", "webinars",
)
# Service page per service (index into PAGES).
SERVICE_PAGE = {s: i + 1 for i, s in enumerate(
    ("Managed IT", "Cybersecurity", "Cloud Migration", "Helpdesk", "Compliance", "Backup & DR"))}

TRACK_EVENTS: tuple[str, ...] = (
    "Demo Requested", "Pricing Calculator Used", "Case Study Downloaded",
    "Contact Form Submitted", "Webinar Registered",
)
# External referrers of a session's first page (None = direct).
REFERRERS: tuple[tuple[str | None, str | None], ...] = (
    # (referrer url, utm_source used on the website form)
    ("https://www.google.com/", "google"),
    (None, None),
    ("https://www.bing.com/", "bing"),
    ("https://www.linkedin.com/", "linkedin"),
    ("https://l.facebook.com/", "facebook"),
    ("https://duckduckgo.com/", None),
    ("https://mail.google.com/", "newsletter"),
)

# --------------------------------------------------------------------------- campaigns

CAMPAIGNS: dict[str, tuple[str, ...]] = {
    "google_ads": ("Search - Managed IT", "Search - Cybersecurity", "Search - Cloud Migration",
                   "Search - Brand", "Display - Remarketing"),
    "meta_lead_ads": ("LeadGen - SMB IT Support", "LeadGen - Cyber Checklist",
                      "Retargeting - Website Visitors"),
    "linkedin": ("Sponsored - IT Directors", "Sponsored - Compliance Guide",
                 "Message Ads - CFOs"),
    "webinar": ("Ransomware Readiness 2026", "Cloud Cost Clinic",
                "Compliance for Healthcare IT", "Helpdesk That Works"),
}
META_ADS: tuple[str, ...] = ("Carousel - Downtime Costs", "Video - 24/7 Support",
                             "Static - Free Security Audit", "Static - Flat Monthly Fee")
META_FORMS: tuple[str, ...] = ("IT Support Quote Form", "Free Security Assessment",
                               "Contact Form v2")
WEBSITE_FORM_PAGES: tuple[str, ...] = ("/contact", "/demo", "/pricing")
MESSAGES: tuple[str, ...] = (
    "We need help with our IT, please call me.",
    "Looking for a quote for managed IT for our office.",
    "Our current provider is not responsive. Interested in switching.",
    "Need help after a phishing incident.",
    "Can you help us move to Microsoft 365?",
    "Interested in a security assessment.",
    "Please send pricing information.",
    "We are opening a second office and need IT setup.",
    "Our server is old and we need backups.",
    "Need HIPAA compliance help.",
    "",
    "",
)
REFERRAL_PARTNERS: tuple[str, ...] = (
    "Microsoft Partner Network", "Chamber of Commerce", "Local CPA Network", "BNI Chapter",
    "Existing client", "Insurance broker", "Vendor partner",
)
REFERRAL_NOTES: tuple[str, ...] = (
    "Warm intro, expecting a call", "Unhappy with current MSP", "Growing fast, needs help",
    "Met at networking event", "Asked for pricing", "", "", "Urgent - recent outage",
)
LEAD_SOURCE_LABELS = {
    "google_ads": "Google Ads", "meta_lead_ads": "Facebook", "linkedin": "LinkedIn",
    "website": "Web", "webinar": "Webinar", "referral": "Referral",
}
