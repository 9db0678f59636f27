//! Roles and the role × method table (`access.txt`), read once at start-up.

use std::collections::BTreeMap;
use std::fmt;
use std::str::FromStr;

/// The table every service enforces, as an auditor reads it.
pub const ACCESS_TABLE: &str = include_str!("access.txt");

/// A role a principal holds (R-O3).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Role {
    /// Finance: the cash desk, bank files by hand, the exception queue.
    Cashier,
    /// Works the customers assigned to them, and only those.
    Collector,
    /// Leads a team of collectors: sees the team's customers, reassigns owners.
    Supervisor,
    /// Credit risk: scores and portfolios.
    Risk,
    /// The legal department.
    Legal,
    /// Reads everything, changes nothing; reads the audit trail.
    Auditor,
    /// Runs the platform.
    Admin,
    /// A bank-integration backend: sends bank files and reads their results only.
    BankIntegration,
    /// Another system acting as a whole (e.g. the scheduler of the daily cycle).
    Service,
}

impl Role {
    /// Every role, in the table's order.
    pub const ALL: [Role; 9] = [
        Role::Cashier,
        Role::Collector,
        Role::Supervisor,
        Role::Risk,
        Role::Legal,
        Role::Auditor,
        Role::Admin,
        Role::BankIntegration,
        Role::Service,
    ];

    /// The name used in tokens, certificates and the table.
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Cashier => "cashier",
            Role::Collector => "collector",
            Role::Supervisor => "supervisor",
            Role::Risk => "risk",
            Role::Legal => "legal",
            Role::Auditor => "auditor",
            Role::Admin => "admin",
            Role::BankIntegration => "bank-integration",
            Role::Service => "service",
        }
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A role name that is not one of [`Role::ALL`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "unknown role {0:?}; roles are cashier, collector, supervisor, risk, legal, auditor, admin, bank-integration, service"
)]
pub struct UnknownRole(pub String);

impl FromStr for Role {
    type Err = UnknownRole;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Role::ALL
            .into_iter()
            .find(|r| r.as_str() == s)
            .ok_or_else(|| UnknownRole(s.to_owned()))
    }
}

/// What part of the customer base a caller may see on a method (R-O3, R-C9).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Scope {
    /// Every customer.
    All,
    /// The customers of every owner in this team (a supervisor).
    Team(String),
    /// The customers this subject owns (a collector).
    Owner(String),
}

impl Scope {
    /// Whether a record owned by `owner` in `team` is inside the scope.
    pub fn covers(&self, owner: &str, team: &str) -> bool {
        match self {
            Scope::All => true,
            Scope::Team(t) => !t.is_empty() && t == team,
            Scope::Owner(o) => o == owner,
        }
    }
}

/// The role × method table.
#[derive(Debug, Clone)]
pub struct Policy {
    methods: BTreeMap<String, Vec<Role>>,
}

/// A line of the table that cannot be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("access table line {line}: {reason}")]
pub struct PolicyError {
    /// 1-based line number.
    pub line: usize,
    /// What is wrong.
    pub reason: String,
}

impl Policy {
    /// The shipped table.
    pub fn shipped() -> Result<Self, PolicyError> {
        Self::parse(ACCESS_TABLE)
    }

    /// Reads a table: `# comments`, blank lines, and rows `/pkg.Service/Method role…`.
    pub fn parse(text: &str) -> Result<Self, PolicyError> {
        let mut methods = BTreeMap::new();
        for (i, raw) in text.lines().enumerate() {
            let line = raw.split('#').next().unwrap_or_default().trim();
            if line.is_empty() {
                continue;
            }
            let error = |reason: String| PolicyError {
                line: i + 1,
                reason,
            };
            let mut words = line.split_whitespace();
            let method = words.next().unwrap_or_default();
            if !method.starts_with('/') || method.matches('/').count() != 2 {
                return Err(error(format!(
                    "{method:?} is not a method path like /pkg.Service/Method"
                )));
            }
            let mut roles = Vec::new();
            for word in words {
                let role = word.parse::<Role>().map_err(|e| error(e.to_string()))?;
                if !roles.contains(&role) {
                    roles.push(role);
                }
            }
            if roles.is_empty() {
                return Err(error(format!("{method} names no role")));
            }
            if methods.insert(method.to_owned(), roles).is_some() {
                return Err(error(format!("{method} has a second row")));
            }
        }
        Ok(Self { methods })
    }

    /// The roles allowed on `method`, or `None` when the table has no row for it.
    pub fn roles_for(&self, method: &str) -> Option<&[Role]> {
        self.methods.get(method).map(Vec::as_slice)
    }

    /// Every method the table names.
    pub fn methods(&self) -> impl Iterator<Item = &str> {
        self.methods.keys().map(String::as_str)
    }

    /// Decides a call of `method` by someone holding `roles`: the scope they get, or why not.
    pub fn decide(
        &self,
        method: &str,
        subject: &str,
        team: Option<&str>,
        roles: &[Role],
    ) -> Result<Scope, Refusal> {
        let Some(allowed) = self.roles_for(method) else {
            return Err(Refusal::UnknownMethod);
        };
        let granted: Vec<Role> = roles
            .iter()
            .copied()
            .filter(|r| allowed.contains(r))
            .collect();
        if granted.is_empty() {
            return Err(Refusal::Role {
                allowed: allowed.to_vec(),
            });
        }
        // The widest scope any granted role gives.
        if granted
            .iter()
            .any(|r| !matches!(r, Role::Collector | Role::Supervisor))
        {
            return Ok(Scope::All);
        }
        match team {
            Some(team) if granted.contains(&Role::Supervisor) && !team.is_empty() => {
                Ok(Scope::Team(team.to_owned()))
            }
            _ => Ok(Scope::Owner(subject.to_owned())),
        }
    }
}

/// Why a call was refused by the table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refusal {
    /// The table has no row for the method: nobody may call it.
    UnknownMethod,
    /// The caller holds none of these roles.
    Role {
        /// The roles that may call the method.
        allowed: Vec<Role>,
    },
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_shipped_table_reads() {
        let policy = Policy::shipped().expect("access.txt");
        assert!(policy.methods().count() >= 17);
        assert_eq!(
            policy.roles_for("/receivables.contracts.v1.ContractsService/RunDailyCycle"),
            Some(&[Role::Admin, Role::Service][..])
        );
    }

    #[test]
    fn every_role_round_trips_its_name() {
        for role in Role::ALL {
            assert_eq!(role.as_str().parse::<Role>(), Ok(role));
        }
        assert!("root".parse::<Role>().is_err());
    }

    #[test]
    fn bad_rows_name_their_line() {
        let error = Policy::parse("# c\n/a.B/C admin\n/a.B/D wizard\n").unwrap_err();
        assert_eq!(error.line, 3);
        assert!(error.reason.contains("wizard"), "{error}");
        assert_eq!(Policy::parse("/a.B/C\n").unwrap_err().line, 1);
        assert_eq!(Policy::parse("a.B.C admin\n").unwrap_err().line, 1);
        assert_eq!(
            Policy::parse("/a.B/C admin\n/a.B/C risk\n")
                .unwrap_err()
                .line,
            2
        );
    }

    #[test]
    fn scope_is_the_widest_granted_role() {
        let policy = Policy::parse("/a.B/C collector supervisor risk\n/a.B/D admin\n").unwrap();
        let m = "/a.B/C";
        assert_eq!(
            policy.decide(m, "li", Some("t1"), &[Role::Collector]),
            Ok(Scope::Owner("li".into()))
        );
        assert_eq!(
            policy.decide(m, "wang", Some("t1"), &[Role::Supervisor]),
            Ok(Scope::Team("t1".into()))
        );
        // A supervisor without a team sees only what they own.
        assert_eq!(
            policy.decide(m, "wang", None, &[Role::Supervisor]),
            Ok(Scope::Owner("wang".into()))
        );
        assert_eq!(
            policy.decide(m, "zhao", None, &[Role::Collector, Role::Risk]),
            Ok(Scope::All)
        );
        assert_eq!(
            policy.decide("/a.B/D", "li", None, &[Role::Collector]),
            Err(Refusal::Role {
                allowed: vec![Role::Admin]
            })
        );
        assert_eq!(
            policy.decide("/a.B/E", "li", None, &[Role::Admin]),
            Err(Refusal::UnknownMethod)
        );
    }

    #[test]
    fn scopes_cover_what_they_should() {
        assert!(Scope::All.covers("x", ""));
        assert!(Scope::Owner("li".into()).covers("li", "t2"));
        assert!(!Scope::Owner("li".into()).covers("wang", "t1"));
        assert!(Scope::Team("t1".into()).covers("wang", "t1"));
        assert!(!Scope::Team("t1".into()).covers("wang", "t2"));
        assert!(!Scope::Team(String::new()).covers("wang", ""));
    }
}
