//! The integration tests, one binary (one link): the real application on 127.0.0.1:0 over
//! real HTTP with a real redb file, the real binary as a child process, providers replaced by
//! small real HTTP and SMTP servers on 127.0.0.1, a real browser for the web UI. `helpers`
//! holds what they share; `structure` checks the layering rule of the README.

mod helpers;

mod admin;
mod admin_changes;
mod admin_setup;
mod admin_ui;
mod archive;
mod backup;
mod binary;
mod concurrency;
mod email;
mod fresh_metrics;
mod history_import;
mod hold_expiry;
mod https;
mod ical;
mod logging;
mod monitoring;
mod occupancy_migration;
mod ops;
mod payments;
mod proxy;
mod quick_repair;
mod records;
mod reliability;
mod reservations;
mod scripts;
mod sec;
mod site;
mod store;
mod structure;
mod systemd;
mod whatsapp;
