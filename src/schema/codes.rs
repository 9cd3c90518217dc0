//! ISO code lists the formats check against.

/// ISO 3166-1 alpha-2, officially assigned codes, plus XK (Kosovo), which
/// trade documents use widely.
pub const COUNTRIES: &[&str] = &[
    "AD", "AE", "AF", "AG", "AI", "AL", "AM", "AO", "AQ", "AR", "AS", "AT", "AU", "AW", "AX", "AZ",
    "BA", "BB", "BD", "BE", "BF", "BG", "BH", "BI", "BJ", "BL", "BM", "BN", "BO", "BQ", "BR", "BS",
    "BT", "BV", "BW", "BY", "BZ", "CA", "CC", "CD", "CF", "CG", "CH", "CI", "CK", "CL", "CM", "CN",
    "CO", "CR", "CU", "CV", "CW", "CX", "CY", "CZ", "DE", "DJ", "DK", "DM", "DO", "DZ", "EC", "EE",
    "EG", "EH", "ER", "ES", "ET", "FI", "FJ", "FK", "FM", "FO", "FR", "GA", "GB", "GD", "GE", "GF",
    "GG", "GH", "GI", "GL", "GM", "GN", "GP", "GQ", "GR", "GS", "GT", "GU", "GW", "GY", "HK", "HM",
    "HN", "HR", "HT", "HU", "ID", "IE", "IL", "IM", "IN", "IO", "IQ", "IR", "IS", "IT", "JE", "JM",
    "JO", "JP", "KE", "KG", "KH", "KI", "KM", "KN", "KP", "KR", "KW", "KY", "KZ", "LA", "LB", "LC",
    "LI", "LK", "LR", "LS", "LT", "LU", "LV", "LY", "MA", "MC", "MD", "ME", "MF", "MG", "MH", "MK",
    "ML", "MM", "MN", "MO", "MP", "MQ", "MR", "MS", "MT", "MU", "MV", "MW", "MX", "MY", "MZ", "NA",
    "NC", "NE", "NF", "NG", "NI", "NL", "NO", "NP", "NR", "NU", "NZ", "OM", "PA", "PE", "PF", "PG",
    "PH", "PK", "PL", "PM", "PN", "PR", "PS", "PT", "PW", "PY", "QA", "RE", "RO", "RS", "RU", "RW",
    "SA", "SB", "SC", "SD", "SE", "SG", "SH", "SI", "SJ", "SK", "SL", "SM", "SN", "SO", "SR", "SS",
    "ST", "SV", "SX", "SY", "SZ", "TC", "TD", "TF", "TG", "TH", "TJ", "TK", "TL", "TM", "TN", "TO",
    "TR", "TT", "TV", "TW", "TZ", "UA", "UG", "UM", "US", "UY", "UZ", "VA", "VC", "VE", "VG", "VI",
    "VN", "VU", "WF", "WS", "XK", "YE", "YT", "ZA", "ZM", "ZW",
];

/// ISO 4217 active currency codes.
pub const CURRENCIES: &[&str] = &[
    "AED", "AFN", "ALL", "AMD", "ANG", "AOA", "ARS", "AUD", "AWG", "AZN", "BAM", "BBD", "BDT",
    "BGN", "BHD", "BIF", "BMD", "BND", "BOB", "BRL", "BSD", "BTN", "BWP", "BYN", "BZD", "CAD",
    "CDF", "CHF", "CLP", "CNY", "COP", "CRC", "CUP", "CVE", "CZK", "DJF", "DKK", "DOP", "DZD",
    "EGP", "ERN", "ETB", "EUR", "FJD", "FKP", "GBP", "GEL", "GHS", "GIP", "GMD", "GNF", "GTQ",
    "GYD", "HKD", "HNL", "HTG", "HUF", "IDR", "ILS", "INR", "IQD", "IRR", "ISK", "JMD", "JOD",
    "JPY", "KES", "KGS", "KHR", "KMF", "KPW", "KRW", "KWD", "KYD", "KZT", "LAK", "LBP", "LKR",
    "LRD", "LSL", "LYD", "MAD", "MDL", "MGA", "MKD", "MMK", "MNT", "MOP", "MRU", "MUR", "MVR",
    "MWK", "MXN", "MYR", "MZN", "NAD", "NGN", "NIO", "NOK", "NPR", "NZD", "OMR", "PAB", "PEN",
    "PGK", "PHP", "PKR", "PLN", "PYG", "QAR", "RON", "RSD", "RUB", "RWF", "SAR", "SBD", "SCR",
    "SDG", "SEK", "SGD", "SHP", "SLE", "SOS", "SRD", "SSP", "STN", "SVC", "SYP", "SZL", "THB",
    "TJS", "TMT", "TND", "TOP", "TRY", "TTD", "TWD", "TZS", "UAH", "UGX", "USD", "UYU", "UZS",
    "VES", "VND", "VUV", "WST", "XAF", "XCD", "XCG", "XOF", "XPF", "YER", "ZAR", "ZMW", "ZWG",
];

/// Whether `s` is in `COUNTRIES` (a bit table for two capital letters).
pub fn is_country(s: &str) -> bool {
    static TABLE: std::sync::LazyLock<Letters> =
        std::sync::LazyLock::new(|| Letters::new(COUNTRIES, 2));
    TABLE.contains(s, COUNTRIES)
}

/// Whether `s` is in `CURRENCIES` (a bit table for three capital letters).
pub fn is_currency(s: &str) -> bool {
    static TABLE: std::sync::LazyLock<Letters> =
        std::sync::LazyLock::new(|| Letters::new(CURRENCIES, 3));
    TABLE.contains(s, CURRENCIES)
}

/// A set of codes of `len` capital letters A-Z as one bit per possible code.
struct Letters {
    len: usize,
    bits: Vec<u64>,
}

impl Letters {
    fn new(codes: &[&str], len: usize) -> Letters {
        let mut bits = vec![0u64; 26usize.pow(len as u32).div_ceil(64)];
        for c in codes {
            if let Some(i) = Letters::index(c, len) {
                bits[i / 64] |= 1 << (i % 64);
            }
        }
        Letters { len, bits }
    }

    fn index(s: &str, len: usize) -> Option<usize> {
        (s.len() == len && s.bytes().all(|b| b.is_ascii_uppercase()))
            .then(|| s.bytes().fold(0, |i, b| i * 26 + usize::from(b - b'A')))
    }

    /// Codes of the table's shape are looked up in it; anything else in the
    /// sorted list itself.
    fn contains(&self, s: &str, sorted: &[&str]) -> bool {
        match Letters::index(s, self.len) {
            Some(i) => self.bits[i / 64] & (1 << (i % 64)) != 0,
            None => sorted.binary_search(&s).is_ok(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tables_agree_with_the_lists() {
        for c in COUNTRIES {
            assert!(is_country(c));
        }
        for c in CURRENCIES {
            assert!(is_currency(c));
        }
        for s in ["", "de", "D", "DEU", "ZZ", "XX", "É1"] {
            assert_eq!(is_country(s), COUNTRIES.binary_search(&s).is_ok(), "{s}");
        }
        for s in ["", "usd", "US", "USDX", "AAA", "ZZZ"] {
            assert_eq!(is_currency(s), CURRENCIES.binary_search(&s).is_ok(), "{s}");
        }
    }
}
