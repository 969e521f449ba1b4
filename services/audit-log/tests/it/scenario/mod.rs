//! Issue 6: a scripted scenario against the real account-command service.
//! Every event appears in the trail once, in order, with a valid chain; the
//! rejections are in their account's chain; the stream API pages and exports.

mod retention_gaps;
mod scripted;
mod stream_api;
