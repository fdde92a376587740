"""Country, demonym and international-organisation names.

Countries come from pycountry (ISO 3166) with the names newsrooms use
("Russia", not "Russian Federation") and their common short forms ("US",
"U.S.", "America"). Demonyms ("Russian", "Chinese") are linked to a country
as a separate relation: `to_country("Russians") == "Russia"`. Organisations
map acronyms to their expansions (`UN` -> United Nations).

Lookups go through `to_match_key`, which folds case, diacritics,
punctuation and a leading "the", so "the U.S." and "US" are one key.
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

import pycountry

# ISO names that newsrooms do not use, by alpha-2 code.
_COUNTRY_NAME_OVERRIDES: dict[str, str] = {
    "RU": "Russia",
    "CD": "Democratic Republic of the Congo",
    "CG": "Republic of the Congo",
    "PS": "Palestine",
    "VA": "Vatican City",
    "CZ": "Czech Republic",
    "TR": "Turkey",
    "CI": "Ivory Coast",
    "CV": "Cape Verde",
    "SZ": "Eswatini",
    "MK": "North Macedonia",
    "BN": "Brunei",
    "FM": "Micronesia",
    "KR": "South Korea",
    "KP": "North Korea",
    "VG": "British Virgin Islands",
    "VI": "United States Virgin Islands",
    "FK": "Falkland Islands",
    "CC": "Cocos Islands",
    "MF": "Saint Martin",
    "SX": "Sint Maarten",
    "BQ": "Caribbean Netherlands",
    "SH": "Saint Helena",
    "TW": "Taiwan",
}

# Short forms that are not ISO names: alias -> canonical country name.
_COUNTRY_ALIASES: dict[str, str] = {
    "US": "United States", "U.S.": "United States", "USA": "United States", "U.S.A.": "United States",
    "America": "United States", "United States of America": "United States", "the States": "United States",
    "UK": "United Kingdom", "U.K.": "United Kingdom", "Britain": "United Kingdom",
    "Great Britain": "United Kingdom", "GB": "United Kingdom",
    "Russian Federation": "Russia", "PRC": "China", "People's Republic of China": "China",
    "Mainland China": "China", "Republic of Korea": "South Korea", "ROK": "South Korea", "DPRK": "North Korea",
    "Holland": "Netherlands", "the Netherlands": "Netherlands", "UAE": "United Arab Emirates",
    "Czechia": "Czech Republic", "Türkiye": "Turkey", "Burma": "Myanmar", "Persia": "Iran",
    "Côte d'Ivoire": "Ivory Coast", "Swaziland": "Eswatini", "Macedonia": "North Macedonia",
    "East Timor": "Timor-Leste", "Vatican": "Vatican City", "Holy See": "Vatican City",
    "DRC": "Democratic Republic of the Congo", "DR Congo": "Democratic Republic of the Congo",
    "Congo-Kinshasa": "Democratic Republic of the Congo", "Congo-Brazzaville": "Republic of the Congo",
    "Palestinian Territories": "Palestine", "Viet Nam": "Vietnam", "Lao PDR": "Laos",
    "Kyrgyz Republic": "Kyrgyzstan", "Slovak Republic": "Slovakia", "Cabo Verde": "Cape Verde",
    "Soviet Union": "Soviet Union", "USSR": "Soviet Union", "Yugoslavia": "Yugoslavia",
    "Zaire": "Democratic Republic of the Congo", "England": "England", "Scotland": "Scotland",
    "Wales": "Wales", "Northern Ireland": "Northern Ireland",
}

# Demonym (singular or plural adjective/noun) -> country.
_DEMONYMS: dict[str, str] = {
    "Afghan": "Afghanistan", "Albanian": "Albania", "Algerian": "Algeria", "American": "United States",
    "Andorran": "Andorra", "Angolan": "Angola", "Argentine": "Argentina", "Argentinian": "Argentina",
    "Armenian": "Armenia", "Australian": "Australia", "Austrian": "Austria", "Azerbaijani": "Azerbaijan",
    "Azeri": "Azerbaijan", "Bahraini": "Bahrain", "Bangladeshi": "Bangladesh", "Belarusian": "Belarus",
    "Belgian": "Belgium", "Bolivian": "Bolivia", "Bosnian": "Bosnia and Herzegovina",
    "Brazilian": "Brazil", "British": "United Kingdom", "Briton": "United Kingdom", "Bulgarian": "Bulgaria",
    "Burmese": "Myanmar", "Burundian": "Burundi", "Cambodian": "Cambodia", "Cameroonian": "Cameroon",
    "Canadian": "Canada", "Chadian": "Chad", "Chilean": "Chile", "Chinese": "China", "Colombian": "Colombia",
    "Congolese": "Democratic Republic of the Congo", "Croat": "Croatia", "Croatian": "Croatia",
    "Cuban": "Cuba", "Cypriot": "Cyprus", "Czech": "Czech Republic", "Dane": "Denmark", "Danish": "Denmark",
    "Dominican": "Dominican Republic", "Dutch": "Netherlands", "Ecuadorian": "Ecuador", "Egyptian": "Egypt",
    "Emirati": "United Arab Emirates", "English": "England", "Eritrean": "Eritrea", "Estonian": "Estonia",
    "Ethiopian": "Ethiopia", "Fijian": "Fiji", "Filipino": "Philippines", "Finn": "Finland",
    "Finnish": "Finland", "French": "France", "Frenchman": "France", "Georgian": "Georgia",
    "German": "Germany", "Ghanaian": "Ghana", "Greek": "Greece", "Guatemalan": "Guatemala",
    "Guinean": "Guinea", "Haitian": "Haiti", "Honduran": "Honduras", "Hungarian": "Hungary",
    "Icelandic": "Iceland", "Indian": "India", "Indonesian": "Indonesia", "Iranian": "Iran", "Iraqi": "Iraq",
    "Irish": "Ireland", "Israeli": "Israel", "Italian": "Italy", "Ivorian": "Ivory Coast",
    "Jamaican": "Jamaica", "Japanese": "Japan", "Jordanian": "Jordan", "Kazakh": "Kazakhstan",
    "Kenyan": "Kenya", "Kosovar": "Kosovo", "Kuwaiti": "Kuwait", "Kyrgyz": "Kyrgyzstan", "Lao": "Laos",
    "Laotian": "Laos", "Latvian": "Latvia", "Lebanese": "Lebanon", "Liberian": "Liberia", "Libyan": "Libya",
    "Lithuanian": "Lithuania", "Luxembourgish": "Luxembourg", "Macedonian": "North Macedonia",
    "Malagasy": "Madagascar", "Malawian": "Malawi", "Malaysian": "Malaysia", "Malian": "Mali",
    "Maltese": "Malta", "Mauritanian": "Mauritania", "Mexican": "Mexico", "Moldovan": "Moldova",
    "Mongolian": "Mongolia", "Montenegrin": "Montenegro", "Moroccan": "Morocco", "Mozambican": "Mozambique",
    "Namibian": "Namibia", "Nepalese": "Nepal", "Nepali": "Nepal", "New Zealander": "New Zealand",
    "Nicaraguan": "Nicaragua", "Nigerian": "Nigeria", "Nigerien": "Niger", "North Korean": "North Korea",
    "Norwegian": "Norway", "Omani": "Oman", "Pakistani": "Pakistan", "Palestinian": "Palestine",
    "Panamanian": "Panama", "Paraguayan": "Paraguay", "Peruvian": "Peru", "Pole": "Poland",
    "Polish": "Poland", "Portuguese": "Portugal", "Qatari": "Qatar", "Romanian": "Romania",
    "Russian": "Russia", "Rwandan": "Rwanda", "Salvadoran": "El Salvador", "Saudi": "Saudi Arabia",
    "Scot": "Scotland", "Scottish": "Scotland", "Senegalese": "Senegal", "Serb": "Serbia",
    "Serbian": "Serbia", "Singaporean": "Singapore", "Slovak": "Slovakia", "Slovene": "Slovenia",
    "Slovenian": "Slovenia", "Somali": "Somalia", "South African": "South Africa",
    "South Korean": "South Korea", "South Sudanese": "South Sudan", "Spaniard": "Spain",
    "Spanish": "Spain", "Sri Lankan": "Sri Lanka", "Sudanese": "Sudan", "Swede": "Sweden",
    "Swedish": "Sweden", "Swiss": "Switzerland", "Syrian": "Syria", "Taiwanese": "Taiwan",
    "Tajik": "Tajikistan", "Tanzanian": "Tanzania", "Thai": "Thailand",
    "Tunisian": "Tunisia", "Turk": "Turkey", "Turkish": "Turkey", "Turkmen": "Turkmenistan",
    "Ugandan": "Uganda", "Ukrainian": "Ukraine", "Uruguayan": "Uruguay", "Uzbek": "Uzbekistan",
    "Venezuelan": "Venezuela", "Vietnamese": "Vietnam", "Welsh": "Wales", "Yemeni": "Yemen",
    "Zambian": "Zambia", "Zimbabwean": "Zimbabwe", "Soviet": "Soviet Union", "Yugoslav": "Yugoslavia",
    "Zairean": "Democratic Republic of the Congo", "Zairian": "Democratic Republic of the Congo",
    "Kyrgyzstani": "Kyrgyzstan", "Tadjik": "Tajikistan", "Byelorussian": "Belarus",
    "Chechen": "Chechnya", "Kosovan": "Kosovo", "Catalan": "Catalonia", "Basque": "Basque Country",
    "Tibetan": "Tibet", "Corsican": "Corsica", "Sardinian": "Sardinia", "Sicilian": "Sicily",
    "European": "Europe", "African": "Africa", "Asian": "Asia", "Latin American": "Latin America",
    "Scandinavian": "Scandinavia", "Balkan": "Balkans", "Caribbean": "Caribbean",
}

# Adherents' names and adjectives -> the religion.
_RELIGIONS: dict[str, str] = {
    "Muslim": "Islam", "Moslem": "Islam", "Islamic": "Islam", "Christian": "Christianity",
    "Hindu": "Hinduism", "Buddhist": "Buddhism", "Sikh": "Sikhism", "Catholic": "Catholic Church",
    "Roman Catholic": "Catholic Church", "Protestant": "Protestantism",
}

# International organisations: canonical name -> aliases (acronyms, other forms).
_ORGANISATIONS: dict[str, tuple[str, ...]] = {
    "United Nations": ("UN", "U.N.", "UNO"),
    "UN General Assembly": ("United Nations General Assembly", "UNGA", "U.N. General Assembly"),
    "UN Security Council": ("United Nations Security Council", "UNSC", "U.N. Security Council", "Security Council"),
    "European Union": ("EU", "E.U."),
    "European Commission": ("EC",),
    "European Central Bank": ("ECB",),
    "European Parliament": (),
    "North Atlantic Treaty Organization": ("NATO", "Nato", "North Atlantic Treaty Organisation"),
    "World Health Organization": ("WHO", "World Health Organisation"),
    "International Monetary Fund": ("IMF",),
    "World Bank": (),
    "World Trade Organization": ("WTO", "World Trade Organisation"),
    "Organization of the Petroleum Exporting Countries": ("OPEC", "Opec"),
    "Organisation for Economic Co-operation and Development": ("OECD",),
    "Organization for Security and Co-operation in Europe": ("OSCE",),
    "Association of Southeast Asian Nations": ("ASEAN", "Asean"),
    "African Union": ("AU",),
    "Group of Seven": ("G7", "G-7"),
    "Group of Eight": ("G8", "G-8"),
    "G20": ("G-20", "Group of 20", "Group of Twenty"),
    "International Atomic Energy Agency": ("IAEA",),
    "International Criminal Court": ("ICC",),
    "International Court of Justice": ("ICJ",),
    "UNESCO": ("United Nations Educational, Scientific and Cultural Organization",),
    "UNICEF": ("United Nations Children's Fund",),
    "UN Refugee Agency": ("UNHCR", "United Nations High Commissioner for Refugees"),
    "International Olympic Committee": ("IOC",),
    "FIFA": ("Fédération Internationale de Football Association",),
    "UEFA": ("Union of European Football Associations",),
    "Interpol": ("INTERPOL",),
    "Federal Reserve": ("Fed", "US Federal Reserve", "U.S. Federal Reserve"),
    "Commonwealth of Independent States": ("CIS",),
    "Arab League": ("League of Arab States",),
    "Red Cross": ("International Committee of the Red Cross", "ICRC"),
    "Amnesty International": (),
    "Human Rights Watch": ("HRW",),
}

# Common East Asian family names: for these, the family name comes first,
# so "Xi" is the usual short form of "Xi Jinping".
FAMILY_FIRST_SURNAMES: frozenset[str] = frozenset(
    "Xi Li Wang Zhang Liu Chen Yang Huang Zhao Wu Zhou Xu Sun Ma Zhu Hu Guo He Lin Gao Luo Zheng Liang Xie "
    "Song Tang Han Feng Deng Cao Peng Zeng Xiao Tian Dong Pan Yuan Cai Jiang Yu Du Ye Cheng Wei Su Lu Ding Ren "
    "Shen Yao Fu Zhong Jin Wen Qian Bo Hua Kim Park Lee Choi Jung Kang Cho Yoon Jang Lim Moon Roh Chun Ahn "
    "Nguyen Tran Pham Hoang Phan Vu Dang Bui Ngo Duong Hun Mao Chiang Kuo Tsai Lai Ko".split()
)

_NON_WORD = re.compile(r"[^\w]+")


@lru_cache(maxsize=1 << 16)
def fold_diacritics(text: str) -> str:
    """Remove combining marks: "Zürich" -> "Zurich"; for matching only."""
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


def to_match_key(name: str) -> str:
    """A lookup key: case, diacritics, punctuation and a leading "the" folded."""
    key = fold_diacritics(name).casefold().replace("’", "'")
    key = re.sub(r"'s?$", "", key.strip())
    key = _NON_WORD.sub(" ", key.replace(".", "")).strip()
    if key.startswith("the "):
        key = key[4:]
    return key


@lru_cache(maxsize=1)
def _countries() -> dict[str, str]:
    table: dict[str, str] = {}
    for country in pycountry.countries:
        code = country.alpha_2
        canonical = _COUNTRY_NAME_OVERRIDES.get(code) or getattr(country, "common_name", None) or country.name
        for name in (country.name, getattr(country, "common_name", None), getattr(country, "official_name", None),
                     canonical):
            if name:
                table.setdefault(to_match_key(name), canonical)
        table[to_match_key(canonical)] = canonical
    for alias, canonical in _COUNTRY_ALIASES.items():
        table[to_match_key(alias)] = canonical
    return table


@lru_cache(maxsize=1)
def _demonyms() -> dict[str, str]:
    table: dict[str, str] = {}
    for demonym, country in _DEMONYMS.items():
        key = to_match_key(demonym)
        table[key] = country
        plural = key if key.endswith(("ese", "ss", "ish", "ch", "sh")) else key + "s"
        table.setdefault(plural, country)
    table.setdefault("englishmen", "England")
    table.setdefault("frenchmen", "France")
    return table


@lru_cache(maxsize=1)
def _organisations() -> dict[str, str]:
    table: dict[str, str] = {}
    for canonical, aliases in _ORGANISATIONS.items():
        for name in (canonical, *aliases):
            table[to_match_key(name)] = canonical
    return table


def to_country(name: str) -> str | None:
    """The canonical country for a country name, short form or demonym; else None.

    >>> to_country("U.S."), to_country("Chinese"), to_country("Russians")
    ('United States', 'China', 'Russia')
    """
    key = to_match_key(name)
    return _countries().get(key) or _demonyms().get(key)


def to_country_name(name: str) -> str | None:
    """The canonical country when `name` names a country (not a demonym)."""
    return _countries().get(to_match_key(name))


def to_demonym_country(name: str) -> str | None:
    """The country a demonym ("Russian", "Chinese", "Britons") refers to."""
    return _demonyms().get(to_match_key(name))


@lru_cache(maxsize=1)
def _religions() -> dict[str, str]:
    table: dict[str, str] = {}
    for adjective, religion in _RELIGIONS.items():
        key = to_match_key(adjective)
        table[key] = religion
        table.setdefault(key + "s", religion)
        table.setdefault(to_match_key(religion), religion)
    return table


def to_religion(name: str) -> str | None:
    """The religion an adherent's name or adjective refers to ("Moslems" -> "Islam"), else None."""
    return _religions().get(to_match_key(name))


def to_organisation(name: str) -> str | None:
    """The canonical name of a known international organisation, else None."""
    return _organisations().get(to_match_key(name))


def gazetteer_patterns() -> list[dict[str, object]]:
    """entity_ruler patterns for countries (GPE), demonyms (NORP) and organisations (ORG)."""
    patterns: list[dict[str, object]] = []
    seen: set[tuple[str, str]] = set()

    def add(label: str, text: str) -> None:
        if (label, text) in seen or len(text) < 2:
            return
        seen.add((label, text))
        patterns.append({"label": label, "pattern": text})

    for country in pycountry.countries:
        code = country.alpha_2
        add("GPE", _COUNTRY_NAME_OVERRIDES.get(code) or getattr(country, "common_name", None) or country.name)
    for alias in _COUNTRY_ALIASES:
        if not alias.startswith("the "):
            add("GPE", alias)
    for demonym in (*_DEMONYMS, *_RELIGIONS):
        add("NORP", demonym)
    for canonical, aliases in _ORGANISATIONS.items():
        for name in (canonical, *aliases):
            add("ORG", name)
    return patterns
