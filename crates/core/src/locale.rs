//! Languages the profile may choose and the IANA time zones it may be in.

use chrono::{DateTime, Offset, TimeZone, Utc};
use chrono_tz::Tz;
use serde::Serialize;
use ts_rs::TS;

/// A language an agent can pick, by BCP 47 tag, named in itself.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, TS)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[ts(export)]
pub struct Language {
    pub tag: &'static str,
    pub name: &'static str,
}

/// The languages a customer's record may name: what they read and write, whatever the
/// app is translated into.
pub const LANGUAGES: &[Language] = &[
    Language {
        tag: "en",
        name: "English",
    },
    Language {
        tag: "en-GB",
        name: "English (United Kingdom)",
    },
    Language {
        tag: "de",
        name: "Deutsch",
    },
    Language {
        tag: "fr",
        name: "Français",
    },
    Language {
        tag: "es",
        name: "Español",
    },
    Language {
        tag: "it",
        name: "Italiano",
    },
    Language {
        tag: "nl",
        name: "Nederlands",
    },
    Language {
        tag: "pl",
        name: "Polski",
    },
    Language {
        tag: "pt-BR",
        name: "Português (Brasil)",
    },
    Language {
        tag: "sv",
        name: "Svenska",
    },
    Language {
        tag: "ja",
        name: "日本語",
    },
];

/// The languages the app is translated into: what an agent's profile may choose, as
/// the profile's language is the app's. A catalog ships for each.
pub const APP_LANGUAGES: &[Language] = &[
    Language {
        tag: "en",
        name: "English",
    },
    Language {
        tag: "de",
        name: "Deutsch",
    },
];

pub const DEFAULT_LANGUAGE: &str = "en";

/// A language a customer's record may name.
pub fn is_supported_language(tag: &str) -> bool {
    LANGUAGES.iter().any(|language| language.tag == tag)
}

/// A language the app speaks, which an agent's profile may choose.
pub fn is_app_language(tag: &str) -> bool {
    APP_LANGUAGES.iter().any(|language| language.tag == tag)
}

/// A time zone for the picker: its IANA name and its offset from UTC at a given instant.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[ts(export)]
pub struct TimeZoneInfo {
    pub name: String,
    pub offset_minutes: i32,
}

pub fn parse_timezone(name: &str) -> Option<Tz> {
    name.parse::<Tz>().ok()
}

/// Every canonical IANA zone with its offset at `now`, ordered by offset, then name.
/// `now` is passed in so the list is testable across DST changes.
pub fn timezones(now: DateTime<Utc>) -> Vec<TimeZoneInfo> {
    let mut zones: Vec<TimeZoneInfo> = chrono_tz::TZ_VARIANTS
        .iter()
        .filter(|tz| tz.name().contains('/') && !tz.name().starts_with("Etc/"))
        .map(|tz| TimeZoneInfo {
            name: tz.name().to_owned(),
            offset_minutes: tz
                .offset_from_utc_datetime(&now.naive_utc())
                .fix()
                .local_minus_utc()
                / 60,
        })
        .collect();
    zones.sort_by(|a, b| {
        a.offset_minutes
            .cmp(&b.offset_minutes)
            .then_with(|| a.name.cmp(&b.name))
    });
    zones
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn offsets_follow_daylight_saving() {
        let winter = Utc
            .with_ymd_and_hms(2026, 1, 15, 12, 0, 0)
            .single()
            .expect("date");
        let summer = Utc
            .with_ymd_and_hms(2026, 7, 15, 12, 0, 0)
            .single()
            .expect("date");
        let berlin = |now| {
            timezones(now)
                .into_iter()
                .find(|z| z.name == "Europe/Berlin")
                .map(|z| z.offset_minutes)
        };
        assert_eq!(berlin(winter), Some(60));
        assert_eq!(berlin(summer), Some(120));
    }

    #[test]
    fn list_is_sorted_and_has_no_bare_aliases() {
        let zones = timezones(Utc::now());
        assert!(zones.len() > 300);
        assert!(zones
            .windows(2)
            .all(|w| w[0].offset_minutes <= w[1].offset_minutes));
        assert!(zones
            .iter()
            .all(|z| z.name != "UTC" && z.name.contains('/')));
    }
}
