#!/usr/bin/env python3
"""Generates dragnet's labelled accuracy corpus (corpus.jsonl next to this file).

Each line is one unit the engine scans, with the identifiers that must be found in it:
  {"text": "...", "labels": ["ID", ...]}                    free text
  {"column": "ssn", "text": "...", "labels": ["ID", ...]}   a CSV cell under that header

Values are computed here, independently of the engine's Rust validators (the algorithms are
written again from each format's published rule), and placed in varied contexts: positives
with a keyword before the value or in the column name; negatives with a broken check digit,
without a keyword, or in the shape of the value but not one (order numbers, product names).
Fixed seed: running it again writes the same corpus. `dragnet identifiers accuracy` scores it.
"""

import json
import pathlib
import random

rng = random.Random(20261123)
OUT = pathlib.Path(__file__).with_name("corpus.jsonl")
cases = []


def digits(n):
    return "".join(str(rng.randrange(10)) for _ in range(n))


def luhn_ok(s):
    d = [int(c) for c in s][::-1]
    return (sum(d[0::2]) + sum(sum(divmod(2 * x, 10)) for x in d[1::2])) % 10 == 0


def luhn_complete(prefix):
    return next(prefix + str(c) for c in range(10) if luhn_ok(prefix + str(c)))


def bump_last_digit(v):
    i = max(i for i, c in enumerate(v) if c.isdigit())
    return v[:i] + str((int(v[i]) + 1) % 10) + v[i + 1 :]


# --- value generators: (valid, invalid) pairs ---------------------------------------------

def ssn():
    while True:
        area = rng.randrange(1, 900)
        if area != 666:
            break
    v = f"{area:03d}-{rng.randrange(1, 100):02d}-{rng.randrange(1, 10000):04d}"
    bad = f"{rng.choice([0, 666, 912]):03d}-{rng.randrange(1, 100):02d}-{rng.randrange(1, 10000):04d}"
    return v, bad


def card():
    prefix = rng.choice(["4" + digits(5), "51" + digits(4), "37" + digits(4)])
    length = 15 if prefix.startswith("37") else 16
    v = luhn_complete(prefix + digits(length - 7))
    return v, bump_last_digit(v)


def sin():
    v = luhn_complete(str(rng.choice([1, 2, 3, 4, 5, 6, 7, 9])) + digits(7))
    return f"{v[:3]} {v[3:6]} {v[6:]}", bump_last_digit(f"{v[:3]} {v[3:6]} {v[6:]}")


def nhs():
    while True:
        d = [rng.randrange(10) for _ in range(9)]
        check = 11 - sum(x * (10 - i) for i, x in enumerate(d)) % 11
        check = 0 if check == 11 else check
        if check != 10 and len(set(d)) > 1:
            s = "".join(map(str, d)) + str(check)
            return f"{s[:3]} {s[3:6]} {s[6:]}", bump_last_digit(f"{s[:3]} {s[3:6]} {s[6:]}")


def itin():
    group = rng.choice(list(range(50, 66)) + list(range(70, 89)) + [90, 91, 92] + list(range(94, 100)))
    v = f"9{digits(2)}-{group}-{digits(4)}"
    return v, f"9{v[1:3]}-{rng.choice([10, 40, 93])}-{v[-4:]}"


def iban(country, bban_len, numeric=True):
    bban = digits(bban_len) if numeric else "".join(rng.choice("ABCDEFGHIJKLMNOPQRSTUVWXYZ") for _ in range(4)) + digits(bban_len - 4)
    moved = bban + country + "00"
    num = int("".join(str(int(c, 36)) for c in moved))
    check = 98 - num % 97
    v = f"{country}{check:02d}{bban}"
    spaced = " ".join(v[i : i + 4] for i in range(0, len(v), 4))
    return spaced, bump_last_digit(spaced)


def cuit(kinds):
    # AFIP: mod 11 with weights 5,4,3,2,7,6,5,4,3,2; a body needing check 10 is never issued.
    while True:
        body = rng.choice(kinds) + digits(8)
        total = sum(int(c) * w for c, w in zip(body, [5, 4, 3, 2, 7, 6, 5, 4, 3, 2]))
        check = {11: 0}.get(11 - total % 11, 11 - total % 11)
        if check != 10:
            v = f"{body[:2]}-{body[2:]}-{check}"
            return v, bump_last_digit(v) if check != 9 else v[:-1] + "0"


def nit(organisation):
    # DIAN: weights 3,7,13,... from the right; remainder r gives r if r < 2 else 11 - r.
    base = rng.choice("89") + digits(8) if organisation else rng.choice("1234567") + digits(rng.choice([7, 9]))
    weights = [3, 7, 13, 17, 19, 23, 29, 37, 41, 43, 47, 53, 59, 67, 71]
    r = sum(int(c) * w for c, w in zip(reversed(base), weights)) % 11
    check = r if r < 2 else 11 - r
    bad = (check + rng.randrange(1, 10)) % 10
    if (bad if bad < 2 else None) == check:
        bad = (check + 5) % 10
    dotted = f"{int(base):,}".replace(",", ".")
    return f"{dotted}-{check}", f"{dotted}-{bad}"


def personnummer():
    # Skatteverket: YYMMDD-NNNC, C the Luhn check over the ten digits.
    body = f"{rng.randrange(100):02d}{rng.randrange(1, 13):02d}{rng.randrange(1, 29):02d}{digits(3)}"
    v = luhn_complete(body)
    return f"{v[:6]}-{v[6:]}", f"{v[:6]}-{bump_last_digit(v)[6:]}"


def hetu():
    # DVV: DDMMYY, century sign, NNN, check character = table[number mod 31].
    table = "0123456789ABCDEFHJKLMNPRSTUVWXY"
    date = f"{rng.randrange(1, 29):02d}{rng.randrange(1, 13):02d}{rng.randrange(100):02d}"
    individual = f"{rng.randrange(2, 900):03d}"
    n = int(date + individual)
    sign = rng.choice("-A")
    return f"{date}{sign}{individual}{table[n % 31]}", f"{date}{sign}{individual}{table[(n + 1) % 31]}"


def gs1_udi():
    # GS1: GTIN-14, last digit the mod-10 check (weights 3,1 from the left over 13 digits).
    body = "0" + digits(12)
    check = (10 - sum(int(c) * (3 if i % 2 == 0 else 1) for i, c in enumerate(body)) % 10) % 10
    v = f"(01){body}{check}(17){rng.randrange(24, 30)}{rng.randrange(1, 13):02d}28"
    return v, f"(01){body}{(check + 1) % 10}"


def rib():
    # Banque de France: key = 97 - (89 bank + 15 branch + 3 account) mod 97.
    bank, branch, account = digits(5), digits(5), digits(11)
    key = 97 - (89 * int(bank) + 15 * int(branch) + 3 * int(account)) % 97
    return f"{bank} {branch} {account} {key:02d}", f"{bank} {branch} {account} {(key % 97) + 1:02d}"


def ccc():
    # Spanish CCC: two control digits, weights 1,2,4,8,5,10,9,7,3,6; 11 -> 0, 10 -> 1.
    def control(ten):
        d = 11 - sum(int(c) * w for c, w in zip(ten, [1, 2, 4, 8, 5, 10, 9, 7, 3, 6])) % 11
        return {11: 0, 10: 1}.get(d, d)
    entity, account = digits(8), digits(10)
    dc = f"{control('00' + entity)}{control(account)}"
    bad = f"{dc[0]}{(int(dc[1]) + 1) % 10}"
    return f"{entity[:4]} {entity[4:]} {dc} {account}", f"{entity[:4]} {entity[4:]} {bad} {account}"


def aba():
    # ABA routing number: Federal Reserve prefix, 3-7-1 checksum over the nine digits.
    while True:
        body = f"{rng.choice([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 21, 22, 31, 61, 71]):02d}" + digits(6)
        for last in range(10):
            v = body + str(last)
            if sum(int(c) * w for c, w in zip(v, [3, 7, 1] * 3)) % 10 == 0:
                return v, bump_last_digit(v)


ODD = [1, 0, 5, 7, 9, 13, 15, 17, 19, 21, 2, 4, 18, 20, 11, 3, 6, 8, 12, 14, 16, 10, 22, 25, 24, 23]


def italian_letter(chars):
    total = 0
    for i, c in enumerate(chars):
        index = int(c) if c.isdigit() else ord(c) - 65
        total += ODD[index] if i % 2 == 0 else index
    return chr(65 + total % 26)


def it_bban():
    # Banca d'Italia CIN: the codice fiscale's check letter of ABI + CAB + account.
    rest = digits(10) + digits(12)
    cin = italian_letter(rest)
    other = chr(65 + (ord(cin) - 65 + 1) % 26)
    return f"{cin} {rest[:5]} {rest[5:10]} {rest[10:]}", f"{other} {rest[:5]} {rest[5:10]} {rest[10:]}"


DNI = "TRWAGMYFPDXBNJZSQVHLCKE"


def dni():
    n = rng.randrange(1, 10**8)
    v = f"{n:08d}{DNI[n % 23]}"
    return v, f"{n:08d}{DNI[(n + 1) % 23]}"


def nie():
    lead = rng.randrange(3)
    n = rng.randrange(10**7)
    v = f"{'XYZ'[lead]}{n:07d}{DNI[(lead * 10**7 + n) % 23]}"
    return v, v[:-1] + DNI[(lead * 10**7 + n + 5) % 23]


def de_tax():
    while True:
        first = [rng.randrange(1, 10)] + [rng.randrange(10) for _ in range(9)]
        counts = [first.count(x) for x in set(first)]
        if sorted(counts)[-1] == 2 and counts.count(2) == 1:
            break
    prod = 10
    for x in first:
        t = (x + prod) % 10 or 10
        prod = (t * 2) % 11
    c = 11 - prod
    v = "".join(map(str, first)) + str(0 if c == 10 else c)
    return v, bump_last_digit(v)


def insee():
    body = f"{rng.choice([1, 2])}{rng.randrange(100):02d}{rng.randrange(1, 13):02d}{rng.randrange(1, 96):02d}{rng.randrange(1, 1000):03d}{rng.randrange(1, 1000):03d}"
    key = 97 - int(body) % 97
    v = f"{body[0]} {body[1:3]} {body[3:5]} {body[5:7]} {body[7:10]} {body[10:13]} {key:02d}"
    return v, bump_last_digit(v)


def cpf():
    while True:
        n = [rng.randrange(10) for _ in range(9)]
        if len(set(n)) > 1:
            break
    for length in (9, 10):
        s = sum(x * (length + 1 - i) for i, x in enumerate(n))
        n.append((s * 10 % 11) % 10)
    s = "".join(map(str, n))
    v = f"{s[:3]}.{s[3:6]}.{s[6:9]}-{s[9:]}"
    return v, bump_last_digit(v)


def cnpj():
    n = [rng.randrange(10) for _ in range(8)] + [0, 0, 0, 1]
    w = [6, 5, 4, 3, 2, 9, 8, 7, 6, 5, 4, 3, 2]
    for length in (12, 13):
        s = sum(x * y for x, y in zip(n, w[13 - length :]))
        n.append(0 if s % 11 < 2 else 11 - s % 11)
    s = "".join(map(str, n))
    v = f"{s[:2]}.{s[2:5]}.{s[5:8]}/{s[8:12]}-{s[12:]}"
    return v, bump_last_digit(v)


VD = [[0, 1, 2, 3, 4, 5, 6, 7, 8, 9], [1, 2, 3, 4, 0, 6, 7, 8, 9, 5], [2, 3, 4, 0, 1, 7, 8, 9, 5, 6], [3, 4, 0, 1, 2, 8, 9, 5, 6, 7], [4, 0, 1, 2, 3, 9, 5, 6, 7, 8], [5, 9, 8, 7, 6, 0, 4, 3, 2, 1], [6, 5, 9, 8, 7, 1, 0, 4, 3, 2], [7, 6, 5, 9, 8, 2, 1, 0, 4, 3], [8, 7, 6, 5, 9, 3, 2, 1, 0, 4], [9, 8, 7, 6, 5, 4, 3, 2, 1, 0]]
VP = [[0, 1, 2, 3, 4, 5, 6, 7, 8, 9], [1, 5, 7, 6, 2, 8, 3, 0, 9, 4], [5, 8, 0, 3, 7, 9, 6, 1, 4, 2], [8, 9, 1, 6, 0, 4, 3, 5, 2, 7], [9, 4, 5, 3, 1, 2, 6, 8, 7, 0], [4, 2, 8, 6, 5, 7, 3, 9, 0, 1], [2, 7, 9, 3, 8, 0, 6, 4, 1, 5], [7, 0, 4, 6, 9, 1, 3, 2, 5, 8]]
VINV = [0, 4, 3, 2, 1, 5, 6, 7, 8, 9]


def aadhaar():
    s = str(rng.randrange(2, 10)) + digits(10)
    c = 0
    for i, ch in enumerate(reversed(s)):
        c = VD[c][VP[(i + 1) % 8][int(ch)]]
    v = s + str(VINV[c])
    spaced = f"{v[:4]} {v[4:8]} {v[8:]}"
    return spaced, bump_last_digit(spaced)


def tfn():
    w = [1, 4, 3, 7, 5, 8, 6, 9, 10]
    while True:
        v = digits(9)
        if sum(int(c) * x for c, x in zip(v, w)) % 11 == 0 and len(set(v)) > 1:
            return f"{v[:3]} {v[3:6]} {v[6:]}", bump_last_digit(f"{v[:3]} {v[3:6]} {v[6:]}")


def dea():
    d = [rng.randrange(10) for _ in range(6)]
    check = (d[0] + d[2] + d[4] + 2 * (d[1] + d[3] + d[5])) % 10
    v = rng.choice("ABFGMPR") + rng.choice("ABCDEFGHJKLMNPRSTUVWXYZ") + "".join(map(str, d)) + str(check)
    return v, bump_last_digit(v)


def npi():
    base = str(rng.choice([1, 2])) + digits(8)
    v = luhn_complete("80840" + base)[5:]
    return v, bump_last_digit(v)


def rut():
    body = str(rng.randrange(5_000_000, 25_000_000))
    s, m = 0, 2
    for ch in reversed(body):
        s += int(ch) * m
        m = m + 1 if m < 7 else 2
    r = 11 - s % 11
    check = "0" if r == 11 else "K" if r == 10 else str(r)
    dotted = f"{int(body):,}".replace(",", ".")
    wrong = str((int(check) + 1) % 10) if check.isdigit() else "1"
    return f"{dotted}-{check}", f"{dotted}-{wrong}"


CF_ODD = dict(zip("0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ", [1, 0, 5, 7, 9, 13, 15, 17, 19, 21] + [1, 0, 5, 7, 9, 13, 15, 17, 19, 21, 2, 4, 18, 20, 11, 3, 6, 8, 12, 14, 16, 10, 22, 25, 24, 23]))


def codice_fiscale():
    letters = "BCDFGHLMNPRSTVZ"
    body = "".join(rng.choice(letters) for _ in range(6)) + f"{rng.randrange(100):02d}" + rng.choice("ABCDEHLMPRST") + f"{rng.randrange(1, 29):02d}" + rng.choice("ABCDEFGHLM") + digits(3)
    t = sum(CF_ODD[c] if i % 2 == 0 else (int(c) if c.isdigit() else ord(c) - 65) for i, c in enumerate(body))
    v = body + chr(65 + t % 26)
    return v, body + chr(65 + (t + 1) % 26)


def fr_tax():
    n = str(rng.randrange(0, 4)) + digits(9)
    v = n + f"{int(n) % 511:03d}"
    return v, bump_last_digit(v)


def vin():
    alphabet = "ABCDEFGHJKLMNPRSTUVWXYZ0123456789"
    w = [8, 7, 6, 5, 4, 3, 2, 10, 0, 9, 8, 7, 6, 5, 4, 3, 2]
    val = {**{str(i): i for i in range(10)}, **dict(zip("ABCDEFGH", range(1, 9))), **dict(zip("JKLMN", range(1, 6))), "P": 7, "R": 9, **dict(zip("STUVWXYZ", range(2, 10)))}
    while True:
        v = [rng.choice(alphabet) for _ in range(17)]
        v[0] = rng.choice("123JKLSWYZ")
        s = sum(val[c] * x for c, x in zip(v, w))
        v[8] = "X" if s % 11 == 10 else str(s % 11)
        if any(c.isalpha() for c in v):
            good = "".join(v)
            bad = good[:8] + ("0" if good[8] != "0" else "1") + good[9:]
            return good, bad


def utr():
    body = digits(9)
    w = [6, 7, 8, 9, 10, 5, 4, 3, 2]
    check = "21987654321"[sum(int(c) * x for c, x in zip(body, w)) % 11]
    v = check + body
    return v, str((int(check) + 1) % 10) + body


def cif():
    d = digits(7)
    a = sum(int(d[i]) for i in (1, 3, 5))
    b = sum((int(d[i]) * 2) // 10 + (int(d[i]) * 2) % 10 for i in (0, 2, 4, 6))
    c = (10 - (a + b) % 10) % 10
    letter = rng.choice("ABCDEFGHJUV")
    return f"{letter}{d}{c}", f"{letter}{d}{(c + 1) % 10}"


def nino():
    first = rng.choice("ABCEGHJKLMNOPRSTWXYZ")
    second = rng.choice("ABCEGHJKLMNPRSTWXYZ")
    while first + second in ("BG", "GB", "KN", "NK", "NT", "TN", "ZZ"):
        second = rng.choice("ABCEGHJKLMNPRSTWXYZ")
    body = digits(6)
    suffix = rng.choice("ABCD")
    return f"{first}{second}{body}{suffix}", f"QQ{body}{suffix}"


FIRST = ["James", "Mary", "Robert", "Patricia", "John", "Jennifer", "Michael", "Linda", "David", "Elizabeth", "William", "Barbara", "Richard", "Susan", "Joseph", "Jessica", "Thomas", "Sarah", "Charles", "Karen", "Maria", "Daniel", "Nancy", "Matthew", "Lisa", "Anthony", "Betty", "Mark", "Sandra", "Paul", "Ashley", "Steven", "Emily", "Andrew", "Donna", "Kevin", "Michelle", "Brian", "Carol", "George"]
LAST = ["Smith", "Johnson", "Williams", "Brown", "Jones", "Garcia", "Miller", "Davis", "Rodriguez", "Martinez", "Hernandez", "Lopez", "Gonzalez", "Wilson", "Anderson", "Thomas", "Taylor", "Moore", "Jackson", "Martin", "Lee", "Perez", "Thompson", "White", "Harris", "Sanchez", "Clark", "Ramirez", "Lewis", "Robinson", "Walker", "Young", "Allen", "King", "Wright", "Scott", "Torres", "Nguyen", "Hill", "Flores"]
PRODUCTS = ["Steel Bolt", "Blue Widget", "Garden Hose", "Office Chair", "Paper Towels", "Coffee Beans", "Desk Lamp", "Water Filter", "Cotton Shirt", "Phone Case", "Laptop Stand", "Running Shoes", "Glass Bottle", "Copper Wire", "Oak Table", "Wool Blanket", "Rubber Gloves", "Plastic Crate", "Metal Shelf", "Leather Belt"]
STREETS = ["Main", "Oak", "Pine", "Maple", "Cedar", "Elm", "Washington", "Lake", "Hill", "Park", "Sunset", "Ridge", "Church", "Mill", "River"]
SUFFIXES = ["Street", "St", "Avenue", "Ave", "Road", "Rd", "Lane", "Drive", "Boulevard", "Court", "Way", "Place"]
NOT_ADDRESSES = ["Building 5", "Suite upgrade pending", "Gate B12", "Warehouse north", "Dock 7", "Floor plan v2", "Room 101 booking", "Bay 3 closed", "Level 2 parking", "Terminal A"]

# (id, keywords for text, column names, generator, keyword required)
SPECS = [
    ("USA_SOCIAL_SECURITY_NUMBER", ["SSN", "social security number"], ["ssn", "social_security_number"], ssn),
    ("CREDIT_CARD_NUMBER", ["credit card", "card number", "visa"], ["credit_card", "card_number"], card),
    ("CANADA_SOCIAL_INSURANCE_NUMBER", ["SIN", "social insurance number"], ["sin", "social_insurance_number"], sin),
    ("UK_NHS_NUMBER", ["NHS number", "NHS"], ["nhs_number"], nhs),
    ("USA_INDIVIDUAL_TAX_IDENTIFICATION_NUMBER", ["ITIN", "individual taxpayer identification number"], ["itin"], itin),
    ("SPAIN_DNI_NUMBER", ["DNI", "documento nacional de identidad"], ["dni"], dni),
    ("SPAIN_NIE_NUMBER", ["NIE"], ["nie"], nie),
    ("GERMANY_TAX_IDENTIFICATION_NUMBER", ["Steuer-ID", "Steueridentifikationsnummer"], ["steuer_id"], de_tax),
    ("FRANCE_HEALTH_INSURANCE_NUMBER", ["numéro de sécurité sociale", "INSEE"], ["insee"], insee),
    ("BRAZIL_CPF_NUMBER", ["CPF"], ["cpf"], cpf),
    ("BRAZIL_CNPJ_NUMBER", ["CNPJ"], ["cnpj"], cnpj),
    ("INDIA_AADHAAR_NUMBER", ["Aadhaar", "Aadhaar number"], ["aadhaar"], aadhaar),
    ("AUSTRALIA_TAX_FILE_NUMBER", ["TFN", "tax file number"], ["tfn", "tax_file_number"], tfn),
    ("US_DRUG_ENFORCEMENT_AGENCY_NUMBER", ["DEA number", "DEA registration"], ["dea_number"], dea),
    ("USA_NATIONAL_PROVIDER_IDENTIFIER", ["NPI", "national provider identifier"], ["npi"], npi),
    ("CHILE_RUT_NUMBER", ["RUT", "rol único tributario"], ["rut"], rut),
    ("ITALY_NATIONAL_IDENTIFICATION_NUMBER", ["codice fiscale"], ["codice_fiscale"], codice_fiscale),
    ("FRANCE_TAX_IDENTIFICATION_NUMBER", ["numéro fiscal", "identifiant fiscal"], ["numero_fiscal"], fr_tax),
    ("VEHICLE_IDENTIFICATION_NUMBER", ["VIN", "vehicle identification number"], ["vin"], vin),
    ("UK_TAX_IDENTIFICATION_NUMBER", ["UTR", "unique taxpayer reference"], ["utr"], utr),
    ("SPAIN_TAX_IDENTIFICATION_NUMBER", ["CIF", "código de identificación fiscal"], ["cif"], cif),
    ("UK_NATIONAL_INSURANCE_NUMBER", ["National Insurance number", "NINO"], ["ni_number", "nino"], nino),
    ("GERMANY_BANK_ACCOUNT_NUMBER", ["IBAN"], ["iban"], lambda: iban("DE", 18)),
    ("FRANCE_BANK_ACCOUNT_NUMBER", ["IBAN"], ["iban"], lambda: iban("FR", 23)),
    ("UK_BANK_ACCOUNT_NUMBER", ["IBAN"], ["iban"], lambda: iban("GB", 18, numeric=False)),
    ("ARGENTINA_INDIVIDUAL_TAX_IDENTIFICATION_NUMBER", ["CUIL", "CUIT"], ["cuil"], lambda: cuit(["20", "23", "24", "27"])),
    ("ARGENTINA_ORGANIZATION_TAX_IDENTIFICATION_NUMBER", ["CUIT", "c.u.i.t"], ["cuit"], lambda: cuit(["30", "33", "34"])),
    ("COLOMBIA_INDIVIDUAL_NIT_NUMBER", ["NIT", "n.i.t."], ["nit"], lambda: nit(False)),
    ("COLOMBIA_ORGANIZATION_NIT_NUMBER", ["NIT", "nit#"], ["nit"], lambda: nit(True)),
    ("SWEDEN_DRIVERS_LICENSE", ["körkort", "körkortsnummer"], ["korkortsnummer", "körkort"], personnummer),
    ("FINLAND_DRIVERS_LICENSE", ["ajokortti", "ajokortin numero"], ["ajokortti"], hetu),
    ("MEDICAL_DEVICE_UDI", ["UDI", "unique device identifier"], ["udi", "device_identifier"], gs1_udi),
    ("FRANCE_BANK_ACCOUNT_NUMBER", ["RIB", "numéro de compte"], ["rib", "numero_de_compte"], rib),
    ("SPAIN_BANK_ACCOUNT_NUMBER", ["código cuenta", "número cuenta cliente"], ["codigo_cuenta"], ccc),
    ("ITALY_BANK_ACCOUNT_NUMBER", ["numero di conto", "conto bancario"], ["numero_di_conto"], it_bban),
    ("USA_BANK_ROUTING_NUMBER", ["routing number", "ABA"], ["routing_number", "aba"], aba),
]
IBAN_COUNTRIES = [
    ("ALBANIA", "AL", 24), ("ANDORRA", "AD", 20), ("BOSNIA_AND_HERZEGOVINA", "BA", 16), ("BRAZIL", "BR", 25),
    ("BULGARIA", "BG", 18), ("COSTA_RICA", "CR", 18), ("CROATIA", "HR", 17), ("CYPRUS", "CY", 24),
    ("CZECH_REPUBLIC", "CZ", 20), ("DENMARK", "DK", 14), ("DOMINICAN_REPUBLIC", "DO", 24), ("EGYPT", "EG", 25),
    ("ESTONIA", "EE", 16), ("FAROE_ISLANDS", "FO", 14), ("FINLAND", "FI", 14), ("GEORGIA", "GE", 18),
    ("GREECE", "GR", 23), ("GREENLAND", "GL", 14), ("HUNGARY", "HU", 24), ("ICELAND", "IS", 22),
    ("IRELAND", "IE", 18), ("ITALY", "IT", 23), ("JORDAN", "JO", 26), ("KOSOVO", "XK", 16),
    ("LIECHTENSTEIN", "LI", 17), ("LITHUANIA", "LT", 16), ("MALTA", "MT", 27), ("MAURITANIA", "MR", 23),
    ("MAURITIUS", "MU", 26), ("MONACO", "MC", 23), ("MONTENEGRO", "ME", 18), ("NETHERLANDS", "NL", 14),
    ("NORTH_MACEDONIA", "MK", 15), ("POLAND", "PL", 24), ("PORTUGAL", "PT", 21), ("SAN_MARINO", "SM", 23),
    ("SENEGAL", "SN", 24), ("SERBIA", "RS", 18), ("SLOVAKIA", "SK", 20), ("SLOVENIA", "SI", 15),
    ("SPAIN", "ES", 20), ("SWEDEN", "SE", 20), ("SWITZERLAND", "CH", 17), ("TIMOR_LESTE", "TL", 19),
    ("TUNISIA", "TN", 20), ("TURKIYE", "TR", 22), ("UKRAINE", "UA", 25), ("UNITED_ARAB_EMIRATES", "AE", 19),
    ("VIRGIN_ISLANDS", "VG", 20),
]
# One IBAN spec per country; bank codes of letters where the registry has them.
SPECS += [
    (f"{name}_BANK_ACCOUNT_NUMBER", ["IBAN"], ["iban"], (lambda cc=cc, n=n: iban(cc, n, numeric=cc not in ("NL", "VG", "MU", "AL", "MT", "JO", "GE"))))
    for name, cc, n in IBAN_COUNTRIES
]
KEYWORDLESS = {"CREDIT_CARD_NUMBER": False}
TEXT = ["{kw}: {v}", "The customer's {kw} is {v}.", "{kw} {v} (verified)", "updated {kw}={v} yesterday"]
PLAIN = ["order {v} shipped", "reference {v}", "ticket {v} closed", "batch {v}"]
# IBANs need no keyword (macie.md §4.2): without one they are still positives (the IBAN
# specs are the ones whose only keyword is "IBAN"; a country's BBAN form needs its keyword).
# Identifiers whose values, without a keyword near, another identifier reports.
WITHOUT_KEYWORD = {"CREDIT_CARD_NUMBER": "CREDIT_CARD_NUMBER_(NO_KEYWORD)"}

for ident, keywords, columns, gen in SPECS:
    for i in range(12):
        good, bad = gen()
        kw = keywords[i % len(keywords)]
        cases.append({"text": TEXT[i % len(TEXT)].format(kw=kw, v=good), "labels": [ident]})
        cases.append({"text": TEXT[(i + 1) % len(TEXT)].format(kw=kw, v=bad), "labels": []})
        if keywords == ["IBAN"]:
            plain_labels = [ident]
        elif ident in WITHOUT_KEYWORD:
            plain_labels = [WITHOUT_KEYWORD[ident]]
        else:
            plain_labels = []
        cases.append({"text": PLAIN[i % len(PLAIN)].format(v=good), "labels": plain_labels})
        col = columns[i % len(columns)]
        cases.append({"column": col, "text": good, "labels": [ident]})
        cases.append({"column": col, "text": bad, "labels": []})
        cases.append({"column": "reference", "text": good, "labels": plain_labels})
        # Harder: the keyword too far before the value (Macie's distance is 30 characters),
        # and the value glued inside a longer number.
        far = f"{kw} was requested by the branch office last week, see {good}"
        cases.append({"text": far, "labels": plain_labels})
        glued = f"{kw}: 9{good.replace(' ', '')}7"
        cases.append({"text": glued, "labels": []})

# Names and addresses in CSV columns (and a few in free text).
for i in range(60):
    name = f"{rng.choice(FIRST)} {rng.choice(LAST)}"
    cases.append({"column": rng.choice(["name", "full_name", "customer_name", "Name"]), "text": name, "labels": ["NAME"]})
    cases.append({"column": rng.choice(["product_name", "item name", "name"]), "text": rng.choice(PRODUCTS), "labels": []})
    street = f"{rng.randrange(1, 9999)} {rng.choice(STREETS)} {rng.choice(SUFFIXES)}"
    cases.append({"column": rng.choice(["address", "street_address", "ADDRESS"]), "text": street, "labels": ["ADDRESS"]})
    cases.append({"column": rng.choice(["address", "location"]), "text": rng.choice(NOT_ADDRESSES), "labels": []})
# Addresses of the other countries Macie lists, in free text with their postcode (positives)
# and without it (negatives), and continental street lines in address columns.
def uk_postcode():
    return f"{rng.choice(['SW', 'N', 'EC', 'M', 'B', 'LS'])}{rng.randrange(1, 20)} {rng.randrange(10)}{rng.choice('ABDEFGHJLNPQRSTUWXYZ')}{rng.choice('ABDEFGHJLNPQRSTUWXYZ')}"


INTERNATIONAL = [
    (lambda: f"{rng.randrange(1, 400)} {rng.choice(STREETS)} {rng.choice(['Road', 'Street', 'Lane', 'Close'])}", lambda: f"London {uk_postcode()}", "London"),
    (lambda: f"{rng.randrange(1, 900)} {rng.choice(STREETS)} Street", lambda: f"Toronto, ON M{rng.randrange(1, 10)}{rng.choice('ABCEHJ')} {rng.randrange(10)}{rng.choice('ABCEHJ')}{rng.randrange(10)}", "Toronto, ON"),
    (lambda: f"{rng.randrange(1, 300)} {rng.choice(STREETS)} Street", lambda: f"Sydney NSW 2{rng.randrange(100):03d}", "Sydney"),
    (lambda: f"{rng.choice(['Haupt', 'Linden', 'Schiller', 'Goethe'])}{rng.choice(['straße', 'weg', 'allee', 'platz'])} {rng.randrange(1, 120)}" if rng.random() < 0.7 else f"{rng.choice(['Berliner', 'Kölner', 'Frankfurter'])} {rng.choice(['Straße', 'Allee', 'Weg'])} {rng.randrange(1, 120)}", lambda: f"{rng.randrange(10000, 99999)} {rng.choice(['Berlin', 'München', 'Köln', 'Hamburg'])}", "Berlin"),
    (lambda: f"{rng.randrange(1, 200)} {rng.choice(['rue', 'avenue', 'boulevard'])} {rng.choice(['de la Paix', 'du Moulin', 'des Lilas', 'de la Gare'])}", lambda: f"{rng.randrange(10000, 95999)} {rng.choice(['Paris', 'Lyon', 'Marseille', 'Nantes'])}", "Paris"),
    (lambda: f"{rng.choice(['Via', 'Viale', 'Corso'])} {rng.choice(['Roma', 'Nazionale', 'dei Mille', 'Garibaldi'])} {rng.randrange(1, 200)}", lambda: f"{rng.randrange(10000, 98999):05d} {rng.choice(['Roma', 'Milano', 'Torino', 'Napoli'])}", "Roma"),
    (lambda: f"{rng.choice(['Calle', 'Avenida', 'Paseo'])} {rng.choice(['Mayor', 'de Alcalá', 'del Prado', 'Gran Vía'])} {rng.randrange(1, 200)}", lambda: f"{rng.randrange(10000, 52999):05d} {rng.choice(['Madrid', 'Sevilla', 'Valencia', 'Bilbao'])}", "Madrid"),
]
for street, place, city_only in INTERNATIONAL:
    for i in range(8):
        line = street()
        cases.append({"text": f"ship to {line}, {place()} by Friday", "labels": ["ADDRESS"]})
        cases.append({"text": f"ship to {line}, {city_only} by Friday", "labels": []})
        cases.append({"column": rng.choice(["address", "street_address"]), "text": line, "labels": ["ADDRESS"]})

# Card security codes and expiry dates next to their keywords, and numbers that hold those
# keywords' words without being one (a social security number).
for i in range(12):
    code = digits(rng.choice([3, 4]))
    cases.append({"text": f"{rng.choice(['CVV', 'cvc2', 'card security code'])}: {code}", "labels": ["CREDIT_CARD_SECURITY_CODE"]})
    cases.append({"text": f"social security number {rng.choice([666, 912, 0]):03d}-{digits(2)}-{digits(4)}", "labels": []})
# Phone numbers with their country code (no keyword needed) and in national form next to a
# phone word; the same national digits without one are not reported.
PHONES = [
    ("UK_PHONE_NUMBER", lambda: f"+44 20 {digits(4)} {digits(4)}", lambda: f"020 {digits(4)} {digits(4)}", "mobile"),
    ("FRANCE_PHONE_NUMBER", lambda: "+33 6 " + " ".join(digits(2) for _ in range(4)), lambda: "06 " + " ".join(digits(2) for _ in range(4)), "téléphone"),
    ("GERMANY_PHONE_NUMBER", lambda: f"+49 30 {digits(8)}", lambda: f"030 {digits(8)}", "Telefon"),
    ("SPAIN_PHONE_NUMBER", lambda: f"+34 6{digits(2)} {digits(3)} {digits(3)}", lambda: f"6{digits(2)} {digits(3)} {digits(3)}", "teléfono"),
]
for ident, international, national_form, word in PHONES:
    for i in range(8):
        cases.append({"text": f"call {international()} today", "labels": [ident]})
        cases.append({"text": f"{word}: {national_form()}", "labels": [ident]})
        cases.append({"text": f"order {national_form()} shipped", "labels": []})

for i in range(20):
    first, last = rng.choice(FIRST), rng.choice(LAST)
    user = f"{first.lower()}.{last.lower()}{rng.randrange(100)}"
    cases.append({"text": f"Contact {user}@example.org for access", "labels": ["EMAIL_ADDRESS"]})
    cases.append({"text": f"Contact {user} at example dot org", "labels": []})

OUT.write_text("".join(json.dumps(c, ensure_ascii=False) + "\n" for c in cases))
print(f"{len(cases)} cases written to {OUT}")
