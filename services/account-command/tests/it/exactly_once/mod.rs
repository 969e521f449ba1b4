//! Exactly-once under failure: the processor is killed with SIGKILL mid-stream,
//! instances leave and join under load, or a commit is left without an answer
//! (a private broker frozen mid-commit), while clients keep sending. Every
//! acknowledged command must end with exactly one effect in the log, sequences
//! stay gapless, and the restored state equals the sum of the events.

mod commit_left_open;
mod crashes;
mod poison;
mod verify;
mod workload;
