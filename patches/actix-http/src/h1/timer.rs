use std::{fmt, future::Future, pin::Pin, task::Context};

use tokio::time::{sleep_until, Instant, Sleep};
use tracing::trace;

#[derive(Debug)]
pub(super) enum TimerState {
    Disabled,
    /// Enabled, not running. `spare` keeps the last timer's allocation, so that the next
    /// `set_and_init` resets it instead of allocating and registering a new `Sleep`: the
    /// keep-alive timer is cleared and set again on every request of a connection.
    Inactive { spare: Option<Pin<Box<Sleep>>> },
    Active { timer: Pin<Box<Sleep>> },
}

impl TimerState {
    pub(super) fn new(enabled: bool) -> Self {
        if enabled {
            Self::Inactive { spare: None }
        } else {
            Self::Disabled
        }
    }

    pub(super) fn is_enabled(&self) -> bool {
        matches!(self, Self::Active { .. } | Self::Inactive { .. })
    }

    /// Runs the timer until `deadline`, reusing the allocation of the previous timer if
    /// there is one (`Sleep::reset`, which only moves the deadline when it is later).
    pub(super) fn set_and_init(&mut self, cx: &mut Context<'_>, deadline: Instant, line: u32) {
        if matches!(self, Self::Disabled) {
            trace!("setting disabled timer from line {}", line);
        }

        let timer = match std::mem::replace(self, Self::Disabled) {
            Self::Active { mut timer } | Self::Inactive { spare: Some(mut timer) } => {
                timer.as_mut().reset(deadline);
                timer
            }
            Self::Inactive { spare: None } | Self::Disabled => Box::pin(sleep_until(deadline)),
        };
        *self = Self::Active { timer };
        self.init(cx);
    }

    pub(super) fn clear(&mut self, line: u32) {
        if matches!(self, Self::Disabled) {
            trace!("trying to clear a disabled timer from line {}", line);
        }

        if matches!(self, Self::Inactive { .. }) {
            trace!("trying to clear an inactive timer from line {}", line);
        }

        // A spare timer left registered may wake the task once at its old deadline; the
        // dispatcher then finds no active timer and does nothing.
        *self = match std::mem::replace(self, Self::Disabled) {
            Self::Active { timer } | Self::Inactive { spare: Some(timer) } => Self::Inactive {
                spare: Some(timer),
            },
            Self::Inactive { spare: None } | Self::Disabled => Self::Inactive { spare: None },
        };
    }

    pub(super) fn init(&mut self, cx: &mut Context<'_>) {
        if let TimerState::Active { timer } = self {
            let _ = timer.as_mut().poll(cx);
        }
    }
}

impl fmt::Display for TimerState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TimerState::Disabled => f.write_str("timer is disabled"),
            TimerState::Inactive { .. } => f.write_str("timer is inactive"),
            TimerState::Active { timer } => {
                let deadline = timer.deadline();
                let now = Instant::now();

                if deadline < now {
                    f.write_str("timer is active and has reached deadline")
                } else {
                    write!(
                        f,
                        "timer is active and due to expire in {} milliseconds",
                        ((deadline - now).as_secs_f32() * 1000.0)
                    )
                }
            }
        }
    }
}
