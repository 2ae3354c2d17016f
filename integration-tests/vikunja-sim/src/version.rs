//! The Vikunja version the simulator claims (`/api/v1/info`, `User-Agent`) and the features
//! that depend on it (reference §0).

/// A version string such as `v2.5.0-sim` or `v2.3.0`, with its numbers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Version {
    pub text: String,
    numbers: (u64, u64, u64),
}

impl Version {
    /// Reads `[v]MAJOR[.MINOR[.PATCH]]` and ignores what follows (`-sim`, `-160-g…`);
    /// a string without numbers counts as the newest version.
    pub fn parse(text: &str) -> Version {
        let core = text.trim_start_matches('v');
        let core = core.split(['-', '+']).next().unwrap_or("");
        let mut parts = core.split('.').map(|p| p.parse::<u64>().ok());
        let numbers = match (
            parts.next().flatten(),
            parts.next().flatten(),
            parts.next().flatten(),
        ) {
            (Some(a), b, c) => (a, b.unwrap_or(0), c.unwrap_or(0)),
            (None, ..) => (u64::MAX, 0, 0),
        };
        Version {
            text: text.to_owned(),
            numbers,
        }
    }

    pub fn at_least(&self, major: u64, minor: u64, patch: u64) -> bool {
        self.numbers >= (major, minor, patch)
    }

    /// `/api/v2` exists from 2.4.0.
    pub fn has_v2(&self) -> bool {
        self.at_least(2, 4, 0)
    }

    /// API tokens work as CalDAV passwords from 2.3.0.
    pub fn caldav_tokens(&self) -> bool {
        self.at_least(2, 3, 0)
    }
}

#[cfg(test)]
mod tests {
    use super::Version;

    #[test]
    fn reads_the_numbers_and_ignores_suffixes() {
        assert!(Version::parse("v2.5.0-sim").has_v2());
        assert!(Version::parse("v2.4.0").has_v2());
        assert!(!Version::parse("v2.3.9").has_v2());
        assert!(Version::parse("v2.3.0").caldav_tokens());
        assert!(!Version::parse("0.22.1").caldav_tokens());
        assert!(Version::parse("dev").has_v2());
    }
}
