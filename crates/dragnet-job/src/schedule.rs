//! When scheduled jobs run (macie.md §1.1): daily, weekly on a day, or monthly on a day of the
//! month (a month without that day is skipped), at a time of day in UTC. Pure arithmetic over
//! an injected "now", so tests control the clock.

use dragnet_model::jobspec::{DayOfWeek, JobScheduleFrequency};
use dragnet_model::Timestamp;

/// Time of day (UTC) at which scheduled runs start; midnight unless configured.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct TimeOfDay {
    /// 0–23.
    pub hour: u32,
    /// 0–59.
    pub minute: u32,
}

impl TimeOfDay {
    /// Parses `HH:MM`.
    pub fn parse(s: &str) -> Option<Self> {
        let (h, m) = s.split_once(':')?;
        let (hour, minute) = (h.parse().ok()?, m.parse().ok()?);
        (hour < 24 && minute < 60).then_some(TimeOfDay { hour, minute })
    }
}

fn weekday_number(d: DayOfWeek) -> u32 {
    match d {
        DayOfWeek::Sunday => 0,
        DayOfWeek::Monday => 1,
        DayOfWeek::Tuesday => 2,
        DayOfWeek::Wednesday => 3,
        DayOfWeek::Thursday => 4,
        DayOfWeek::Friday => 5,
        DayOfWeek::Saturday => 6,
    }
}

/// The first scheduled start strictly after `after`, or `None` for a frequency with no
/// schedule set.
pub fn next_run_after(
    frequency: &JobScheduleFrequency,
    after: Timestamp,
    at: TimeOfDay,
) -> Option<Timestamp> {
    const DAY: i64 = 86_400_000;
    let first_day = after.millis().div_euclid(DAY);
    // Monthly on the 31st can skip up to two months in a row; a year and a bit always finds it.
    for day in first_day..first_day + 400 {
        let (y, m, d) = Timestamp::from_millis(day * DAY).date();
        let candidate = Timestamp::from_civil(y, m, d, at.hour, at.minute, 0, 0)?;
        if candidate <= after {
            continue;
        }
        let matches = if frequency.daily_schedule.is_some() {
            true
        } else if let Some(w) = &frequency.weekly_schedule {
            candidate.weekday() == weekday_number(w.day_of_week)
        } else if let Some(mo) = &frequency.monthly_schedule {
            i64::from(d) == mo.day_of_month
        } else {
            return None;
        };
        if matches {
            return Some(candidate);
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use dragnet_model::jobspec::{DailySchedule, MonthlySchedule, WeeklySchedule};

    fn t(s: &str) -> Timestamp {
        Timestamp::parse(s).unwrap()
    }

    fn daily() -> JobScheduleFrequency {
        JobScheduleFrequency {
            daily_schedule: Some(DailySchedule {}),
            ..Default::default()
        }
    }

    #[test]
    fn daily_runs_every_day_at_the_time() {
        let at = TimeOfDay {
            hour: 2,
            minute: 30,
        };
        assert_eq!(
            next_run_after(&daily(), t("2026-11-23T01:00:00Z"), at),
            Some(t("2026-11-23T02:30:00Z"))
        );
        assert_eq!(
            next_run_after(&daily(), t("2026-11-23T02:30:00Z"), at),
            Some(t("2026-11-24T02:30:00Z"))
        );
        assert_eq!(
            next_run_after(&daily(), t("2026-12-31T23:00:00Z"), at),
            Some(t("2027-01-01T02:30:00Z"))
        );
    }

    #[test]
    fn weekly_runs_on_its_day() {
        let f = JobScheduleFrequency {
            weekly_schedule: Some(WeeklySchedule {
                day_of_week: DayOfWeek::Friday,
            }),
            ..Default::default()
        };
        // 2026-11-23 is a Monday.
        assert_eq!(
            next_run_after(&f, t("2026-11-23T10:00:00Z"), TimeOfDay::default()),
            Some(t("2026-11-27T00:00:00Z"))
        );
        assert_eq!(
            next_run_after(&f, t("2026-11-27T00:00:00Z"), TimeOfDay::default()),
            Some(t("2026-12-04T00:00:00Z"))
        );
    }

    #[test]
    fn monthly_on_the_31st_skips_short_months() {
        let f = JobScheduleFrequency {
            monthly_schedule: Some(MonthlySchedule { day_of_month: 31 }),
            ..Default::default()
        };
        let mut at = t("2027-01-31T00:00:00Z");
        let mut runs = Vec::new();
        for _ in 0..4 {
            at = next_run_after(&f, at, TimeOfDay::default()).unwrap();
            runs.push(at.to_string());
        }
        assert_eq!(
            runs,
            vec![
                "2027-03-31T00:00:00.000Z",
                "2027-05-31T00:00:00.000Z",
                "2027-07-31T00:00:00.000Z",
                "2027-08-31T00:00:00.000Z"
            ]
        );
        let feb29 = JobScheduleFrequency {
            monthly_schedule: Some(MonthlySchedule { day_of_month: 29 }),
            ..Default::default()
        };
        assert_eq!(
            next_run_after(&feb29, t("2027-01-30T00:00:00Z"), TimeOfDay::default()),
            Some(t("2027-03-29T00:00:00Z"))
        );
        assert_eq!(
            next_run_after(&feb29, t("2028-01-30T00:00:00Z"), TimeOfDay::default()),
            Some(t("2028-02-29T00:00:00Z"))
        );
    }

    #[test]
    fn time_of_day_parses() {
        assert_eq!(
            TimeOfDay::parse("02:30"),
            Some(TimeOfDay {
                hour: 2,
                minute: 30
            })
        );
        assert_eq!(TimeOfDay::parse("24:00"), None);
        assert_eq!(TimeOfDay::parse("noon"), None);
    }
}
