//! Country names to ISO 3166-1 alpha-2 codes, for spreadsheets that write
//! "Germany", "Russian Federation" or "德国" where a record needs "DE".
//!
//! Lookup ignores case, accents, punctuation and white space, and also tries
//! the name without a bracketed part ("Slovakia (Slovak Republic)").

use std::collections::HashMap;
use std::sync::LazyLock;
use unicode_normalization::UnicodeNormalization;

/// `CODE|English name|variant|...`, one country a line.
const ENGLISH: &str = "\
AD|Andorra
AE|United Arab Emirates|UAE|U.A.E.|Emirates
AF|Afghanistan
AG|Antigua and Barbuda|Antigua & Barbuda
AI|Anguilla
AL|Albania
AM|Armenia
AO|Angola
AQ|Antarctica
AR|Argentina
AS|American Samoa
AT|Austria
AU|Australia
AW|Aruba
AX|Aland Islands
AZ|Azerbaijan
BA|Bosnia and Herzegovina|Bosnia & Herzegovina|Bosnia
BB|Barbados
BD|Bangladesh
BE|Belgium
BF|Burkina Faso
BG|Bulgaria
BH|Bahrain
BI|Burundi
BJ|Benin
BL|Saint Barthelemy
BM|Bermuda
BN|Brunei Darussalam|Brunei
BO|Bolivia|Bolivia, Plurinational State of|Plurinational State of Bolivia
BQ|Bonaire, Sint Eustatius and Saba|Caribbean Netherlands|Bonaire
BR|Brazil|Brasil
BS|Bahamas|The Bahamas
BT|Bhutan
BV|Bouvet Island
BW|Botswana
BY|Belarus
BZ|Belize
CA|Canada
CC|Cocos (Keeling) Islands|Cocos Islands
CD|Congo, the Democratic Republic of the|Democratic Republic of the Congo|DR Congo|DRC|Congo-Kinshasa|Congo, Democratic Republic
CF|Central African Republic
CG|Congo|Republic of the Congo|Congo-Brazzaville|Congo, Republic of the
CH|Switzerland
CI|Cote d'Ivoire|Ivory Coast
CK|Cook Islands
CL|Chile
CM|Cameroon
CN|China|People's Republic of China|PRC|Mainland China|China, People's Republic of
CO|Colombia
CR|Costa Rica
CU|Cuba
CV|Cabo Verde|Cape Verde
CW|Curacao
CX|Christmas Island
CY|Cyprus
CZ|Czechia|Czech Republic
DE|Germany|Deutschland|Federal Republic of Germany
DJ|Djibouti
DK|Denmark
DM|Dominica
DO|Dominican Republic
DZ|Algeria
EC|Ecuador
EE|Estonia
EG|Egypt
EH|Western Sahara
ER|Eritrea
ES|Spain|Espana
ET|Ethiopia
FI|Finland
FJ|Fiji
FK|Falkland Islands (Malvinas)|Falkland Islands
FM|Micronesia, Federated States of|Micronesia|Federated States of Micronesia
FO|Faroe Islands
FR|France
GA|Gabon
GB|United Kingdom|UK|U.K.|Great Britain|Britain|England|Scotland|Wales|Northern Ireland|United Kingdom of Great Britain and Northern Ireland
GD|Grenada
GE|Georgia
GF|French Guiana
GG|Guernsey
GH|Ghana
GI|Gibraltar
GL|Greenland
GM|Gambia|The Gambia
GN|Guinea
GP|Guadeloupe
GQ|Equatorial Guinea
GR|Greece
GS|South Georgia and the South Sandwich Islands
GT|Guatemala
GU|Guam
GW|Guinea-Bissau
GY|Guyana
HK|Hong Kong|Hong Kong SAR|Hong Kong, China
HM|Heard Island and McDonald Islands
HN|Honduras
HR|Croatia
HT|Haiti
HU|Hungary
ID|Indonesia
IE|Ireland|Republic of Ireland
IL|Israel
IM|Isle of Man
IN|India
IO|British Indian Ocean Territory (Chagos Archipelago)|British Indian Ocean Territory
IQ|Iraq
IR|Iran|Iran, Islamic Republic of|Islamic Republic of Iran
IS|Iceland
IT|Italy|Italia
JE|Jersey
JM|Jamaica
JO|Jordan
JP|Japan
KE|Kenya
KG|Kyrgyzstan|Kyrgyz Republic
KH|Cambodia
KI|Kiribati
KM|Comoros
KN|Saint Kitts and Nevis|St Kitts and Nevis
KP|Korea, Democratic People's Republic of|North Korea|Democratic People's Republic of Korea|DPRK
KR|Korea, Republic of|South Korea|Republic of Korea|Korea
KW|Kuwait
KY|Cayman Islands
KZ|Kazakhstan
LA|Lao People's Democratic Republic|Laos|Lao PDR
LB|Lebanon
LC|Saint Lucia|St Lucia
LI|Liechtenstein
LK|Sri Lanka
LR|Liberia
LS|Lesotho
LT|Lithuania
LU|Luxembourg
LV|Latvia
LY|Libya|Libyan Arab Jamahiriya
MA|Morocco
MC|Monaco
MD|Moldova|Moldova, Republic of|Republic of Moldova
ME|Montenegro
MF|Saint Martin
MG|Madagascar
MH|Marshall Islands
MK|North Macedonia|Macedonia|Republic of North Macedonia|Macedonia, the former Yugoslav Republic of
ML|Mali
MM|Myanmar|Burma
MN|Mongolia
MO|Macao|Macau|Macao SAR
MP|Northern Mariana Islands
MQ|Martinique
MR|Mauritania
MS|Montserrat
MT|Malta
MU|Mauritius
MV|Maldives
MW|Malawi
MX|Mexico|Mejico
MY|Malaysia
MZ|Mozambique
NA|Namibia
NC|New Caledonia
NE|Niger
NF|Norfolk Island
NG|Nigeria
NI|Nicaragua
NL|Netherlands|The Netherlands|Holland|Netherlands Antilles
NO|Norway
NP|Nepal
NR|Nauru
NU|Niue
NZ|New Zealand
OM|Oman
PA|Panama
PE|Peru
PF|French Polynesia
PG|Papua New Guinea
PH|Philippines|The Philippines
PK|Pakistan
PL|Poland|Polska
PM|Saint Pierre and Miquelon
PN|Pitcairn|Pitcairn Islands
PR|Puerto Rico
PS|Palestine|Palestinian Territory|Palestine, State of|State of Palestine|Palestinian Territories
PT|Portugal
PW|Palau
PY|Paraguay
QA|Qatar
RE|Reunion
RO|Romania
RS|Serbia
RU|Russia|Russian Federation
RW|Rwanda
SA|Saudi Arabia|Kingdom of Saudi Arabia|KSA
SB|Solomon Islands
SC|Seychelles
SD|Sudan
SE|Sweden
SG|Singapore
SH|Saint Helena|Saint Helena, Ascension and Tristan da Cunha
SI|Slovenia
SJ|Svalbard and Jan Mayen|Svalbard & Jan Mayen Islands
SK|Slovakia|Slovak Republic|Slovakia (Slovak Republic)
SL|Sierra Leone
SM|San Marino
SN|Senegal
SO|Somalia
SR|Suriname
SS|South Sudan
ST|Sao Tome and Principe
SV|El Salvador
SX|Sint Maarten
SY|Syria|Syrian Arab Republic
SZ|Eswatini|Swaziland
TC|Turks and Caicos Islands
TD|Chad
TF|French Southern Territories
TG|Togo
TH|Thailand
TJ|Tajikistan
TK|Tokelau
TL|Timor-Leste|East Timor
TM|Turkmenistan
TN|Tunisia
TO|Tonga
TR|Turkey|Turkiye
TT|Trinidad and Tobago|Trinidad & Tobago
TV|Tuvalu
TW|Taiwan|Taiwan, Province of China|Chinese Taipei
TZ|Tanzania|Tanzania, United Republic of|United Republic of Tanzania
UA|Ukraine
UG|Uganda
UM|United States Minor Outlying Islands
US|United States|United States of America|USA|U.S.A.|U.S.|America
UY|Uruguay
UZ|Uzbekistan
VA|Holy See (Vatican City State)|Holy See|Vatican|Vatican City|Vatican City State
VC|Saint Vincent and the Grenadines|St Vincent and the Grenadines
VE|Venezuela|Venezuela, Bolivarian Republic of
VG|British Virgin Islands|Virgin Islands, British
VI|United States Virgin Islands|Virgin Islands, U.S.|US Virgin Islands
VN|Viet Nam|Vietnam
VU|Vanuatu
WF|Wallis and Futuna
WS|Samoa
XK|Kosovo
YE|Yemen
YT|Mayotte
ZA|South Africa
ZM|Zambia
ZW|Zimbabwe
";

/// `CODE|中文名|...`: the names Chinese spreadsheets use.
const CHINESE: &str = "\
AE|阿联酋|阿拉伯联合酋长国
AR|阿根廷
AT|奥地利
AU|澳大利亚|澳洲
BD|孟加拉|孟加拉国
BE|比利时
BG|保加利亚
BR|巴西
BY|白俄罗斯
CA|加拿大
CH|瑞士
CL|智利
CN|中国|中华人民共和国|中国大陆
CO|哥伦比亚
CZ|捷克
DE|德国
DK|丹麦
DZ|阿尔及利亚
EC|厄瓜多尔
EG|埃及
ES|西班牙
ET|埃塞俄比亚
FI|芬兰
FR|法国
GB|英国
GH|加纳
GR|希腊
HK|香港|中国香港
HU|匈牙利
ID|印度尼西亚|印尼
IE|爱尔兰
IL|以色列
IN|印度
IQ|伊拉克
IR|伊朗
IT|意大利
JO|约旦
JP|日本
KE|肯尼亚
KH|柬埔寨
KR|韩国|南韩|大韩民国
KW|科威特
KZ|哈萨克斯坦
LK|斯里兰卡
MA|摩洛哥
MM|缅甸
MN|蒙古
MO|澳门|中国澳门
MX|墨西哥
MY|马来西亚
NG|尼日利亚
NL|荷兰
NO|挪威
NP|尼泊尔
NZ|新西兰
OM|阿曼
PE|秘鲁
PH|菲律宾
PK|巴基斯坦
PL|波兰
PT|葡萄牙
QA|卡塔尔
RO|罗马尼亚
RS|塞尔维亚
RU|俄罗斯|俄罗斯联邦
SA|沙特阿拉伯|沙特
SE|瑞典
SG|新加坡
SK|斯洛伐克
TH|泰国
TN|突尼斯
TR|土耳其
TW|台湾|中国台湾
TZ|坦桑尼亚
UA|乌克兰
UG|乌干达
US|美国|美利坚合众国
UZ|乌兹别克斯坦
VE|委内瑞拉
VN|越南
YE|也门
ZA|南非
";

/// Lower-case letters and digits only, accents removed.
pub fn fold(s: &str) -> String {
    s.nfkd()
        .filter(|c| !unicode_normalization::char::is_combining_mark(*c))
        .filter(|c| c.is_alphanumeric())
        .flat_map(char::to_lowercase)
        .collect()
}

static TABLE: LazyLock<HashMap<String, &'static str>> = LazyLock::new(|| {
    let mut m = HashMap::new();
    for line in ENGLISH.lines().chain(CHINESE.lines()) {
        let mut parts = line.split('|');
        let Some(code) = parts.next() else { continue };
        for name in parts {
            m.insert(fold(name), code);
        }
    }
    m
});

/// The English name of a country code, for exports.
pub fn english_name(code: &str) -> Option<&'static str> {
    ENGLISH
        .lines()
        .find(|l| l.get(..2) == Some(code) && l.as_bytes().get(2) == Some(&b'|'))
        .and_then(|l| l.split('|').nth(1))
}

/// The ISO code of a country written as a code or a name; `extra` maps
/// further names (from a mapping file's `[countries]`) to codes.
pub fn country_code(value: &str, extra: &HashMap<String, String>) -> Option<String> {
    let v = value.trim();
    if v.is_empty() {
        return None;
    }
    let key = fold(v);
    if let Some(c) = extra.get(&key) {
        return Some(c.clone());
    }
    let up = v.to_ascii_uppercase();
    if up.len() == 2
        && crate::schema::codes::COUNTRIES
            .binary_search(&up.as_str())
            .is_ok()
    {
        return Some(up);
    }
    if let Some(c) = TABLE.get(&key) {
        return Some(c.to_string());
    }
    // "Slovakia (Slovak Republic)": the name before the brackets
    let before = v.split(['(', '（']).next().unwrap_or(v);
    if before.len() < v.len() {
        return TABLE.get(&fold(before)).map(|c| c.to_string());
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cc(s: &str) -> Option<String> {
        country_code(s, &HashMap::new())
    }

    #[test]
    fn names_variants_and_codes() {
        for (name, code) in [
            ("Germany", "DE"),
            ("germany ", "DE"),
            ("德国", "DE"),
            ("Russian Federation", "RU"),
            ("Korea, Republic of", "KR"),
            ("Viet Nam", "VN"),
            ("United States of America", "US"),
            ("USA", "US"),
            ("UK", "GB"),
            ("Slovakia (Slovak Republic)", "SK"),
            ("Lao People's Democratic Republic", "LA"),
            ("Swaziland", "SZ"),
            ("Holy See (Vatican City State)", "VA"),
            ("Côte d’Ivoire", "CI"),
            ("CÔTE D'IVOIRE", "CI"),
            ("Türkiye", "TR"),
            ("de", "DE"),
            ("阿联酋", "AE"),
            ("沙特阿拉伯", "SA"),
        ] {
            assert_eq!(cc(name).as_deref(), Some(code), "{name}");
        }
        assert_eq!(cc("Atlantis"), None);
        assert_eq!(cc("XX"), None);
        let extra: HashMap<String, String> = [(fold("Allemagne"), "DE".to_string())].into();
        assert_eq!(country_code("allemagne", &extra).as_deref(), Some("DE"));
        assert_eq!(english_name("DE"), Some("Germany"));
    }

    #[test]
    fn every_code_is_iso() {
        for line in ENGLISH.lines().chain(CHINESE.lines()) {
            let code = &line[..2];
            assert!(
                crate::schema::codes::COUNTRIES.binary_search(&code).is_ok(),
                "{line}"
            );
        }
    }
}
