//! The API's roles and what each may do.
//!
//! Every role reads findings (with their locations, never values), jobs, statistics,
//! quarantine records and saved investigations. On top of that: `investigator` may reveal
//! values, `operator` may run, pause, resume and cancel jobs and restore quarantined objects,
//! and `admin` may do all of it and manage tokens. Revealing is not part of `operator`: the
//! people who run the machinery are not, by that alone, the people who may see the data.

use std::fmt;
use std::str::FromStr;

/// A token's role.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Role {
    /// Findings, jobs and statistics, with locations only.
    Viewer,
    /// A viewer who may also reveal the values behind a finding.
    Investigator,
    /// A viewer who may also control jobs and quarantine.
    Operator,
    /// Everything, including tokens.
    Admin,
}

/// Something a request asks to do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    /// Read findings, jobs, statistics, quarantine records, investigations.
    Read,
    /// Reveal the values behind a finding.
    Reveal,
    /// Run, pause, resume or cancel a job.
    ControlJobs,
    /// Restore a quarantined object.
    Restore,
    /// Create, list and revoke tokens.
    ManageTokens,
}

impl Role {
    /// Every role, least privileged first.
    pub const ALL: [Role; 4] = [
        Role::Viewer,
        Role::Investigator,
        Role::Operator,
        Role::Admin,
    ];

    /// Whether this role may do `action`.
    pub fn allows(self, action: Action) -> bool {
        match action {
            Action::Read => true,
            Action::Reveal => matches!(self, Role::Investigator | Role::Admin),
            Action::ControlJobs | Action::Restore => matches!(self, Role::Operator | Role::Admin),
            Action::ManageTokens => self == Role::Admin,
        }
    }

    /// The role's name in tokens, config and the API.
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Viewer => "viewer",
            Role::Investigator => "investigator",
            Role::Operator => "operator",
            Role::Admin => "admin",
        }
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A role name that is not one of the four.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown role {0:?}; expected viewer, investigator, operator or admin")]
pub struct UnknownRole(pub String);

impl FromStr for Role {
    type Err = UnknownRole;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Role::ALL
            .into_iter()
            .find(|r| r.as_str() == s)
            .ok_or_else(|| UnknownRole(s.to_string()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_role_gets_exactly_its_permissions() {
        use Action::*;
        let table = [
            (Role::Viewer, [true, false, false, false, false]),
            (Role::Investigator, [true, true, false, false, false]),
            (Role::Operator, [true, false, true, true, false]),
            (Role::Admin, [true, true, true, true, true]),
        ];
        for (role, expected) in table {
            let got = [Read, Reveal, ControlJobs, Restore, ManageTokens].map(|a| role.allows(a));
            assert_eq!(got, expected, "{role}");
        }
    }

    #[test]
    fn names_round_trip_and_unknown_names_are_refused() {
        for role in Role::ALL {
            assert_eq!(role.as_str().parse::<Role>().unwrap(), role);
        }
        assert!("root"
            .parse::<Role>()
            .unwrap_err()
            .to_string()
            .contains("viewer"));
        assert!("Admin".parse::<Role>().is_err());
    }
}
