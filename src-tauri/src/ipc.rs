//! Everything the web view may call or hear, listed once. From this list the invoke
//! handler is built, and `make generate` writes the UI's typed client and `Backend`
//! interface (`ui/src/lib/generated/backend.ts`), the constants of `crates/core` the UI
//! needs (`constants.ts`), the command list Tauri's build step reads (`commands.json`)
//! and the main window's capability.

use agent_desk_core::admin::{AGENT_PAGE_MAX, WELCOME_LINK_VALID_DAYS};
use agent_desk_core::customers::NOTE_MAX;
use agent_desk_core::integrations::{
    IntegrationScope, WebhookSource, HOOK_GRACE_HOURS_DEFAULT, HOOK_GRACE_HOURS_MAX,
    INTEGRATION_NAME_MAX_CHARS,
};
use agent_desk_core::teams::JOIN_NOTE_MAX;
use agent_desk_core::validation::SIGNATURE_MAX;
use agent_desk_core::{EmailFrequency, EventType, APP_LANGUAGES};
use agent_desk_ipc::{ConstantSpec, Ipc};

use crate::commands;

agent_desk_ipc::commands![
    commands::app::app_info,
    commands::app::set_unsaved_changes,
    commands::app::quit_discarding_changes,
    commands::app::quit_app,
    commands::app::take_link,
    commands::session::restore_session,
    commands::session::sign_in,
    commands::session::sign_out,
    commands::outbox::outbox_state,
    commands::outbox::send_waiting_now,
    commands::outbox::discard_change,
    commands::outbox::restore_replaced,
    commands::outbox::dismiss_conflict,
    commands::profile::get_profile,
    commands::profile::update_profile,
    commands::profile::validate_profile,
    commands::profile::list_timezones,
    commands::profile::list_languages,
    commands::profile::privacy_preview,
    commands::account::server_policy,
    commands::account::check_password,
    commands::account::change_password,
    commands::account::request_password_reset,
    commands::account::list_sessions,
    commands::account::end_session,
    commands::account::sign_out_other_sessions,
    commands::photo::prepare_avatar,
    commands::photo::save_avatar,
    commands::photo::discard_avatar,
    commands::photo::remove_avatar,
    commands::photo::avatar_image,
    commands::photo::initials_avatar,
    commands::devices::audio_state,
    commands::devices::choose_audio_device,
    commands::devices::set_alert_volume,
    commands::devices::start_mic_test,
    commands::devices::stop_mic_test,
    commands::devices::record_sample,
    commands::devices::play_sample,
    commands::devices::test_output,
    commands::computer::this_computer,
    commands::computer::set_start_at_login,
    commands::computer::update_state,
    commands::computer::check_for_updates,
    commands::computer::restart_to_update,
    commands::alerts::alerts_state,
    commands::alerts::set_status,
    commands::alerts::set_idle_away,
    commands::alerts::mark_alerts_read,
    commands::alerts::open_alert,
    commands::alerts::notification_prefs,
    commands::alerts::save_notification_prefs,
    commands::alerts::check_quiet_hours,
    commands::alerts::send_test_notification,
    commands::teams::list_teams,
    commands::teams::request_to_join_team,
    commands::teams::list_join_requests,
    commands::teams::decide_join_request,
    commands::people::list_people,
    commands::people::get_person,
    commands::people::create_user,
    commands::people::update_user,
    commands::people::add_email,
    commands::people::remove_email,
    commands::people::make_primary_email,
    commands::people::list_notes,
    commands::people::add_note,
    commands::people::edit_note,
    commands::people::delete_note,
    commands::people::list_changes,
    commands::people::list_activity,
    commands::people::merge_users,
    commands::people::list_organizations,
    commands::people::create_organization,
    commands::people::list_usergroups,
    commands::records::list_files,
    commands::records::upload_file,
    commands::records::save_file,
    commands::records::show_saved_file,
    commands::records::delete_file,
    commands::records::list_tickets,
    commands::records::list_logins,
    commands::records::open_ticket,
    commands::admin::list_agents,
    commands::admin::get_agent,
    commands::admin::create_agent,
    commands::admin::update_agent,
    commands::admin::send_password_link,
    commands::admin::get_agent_notification_prefs,
    commands::admin::save_agent_notification_prefs,
    commands::admin::get_notification_locks,
    commands::admin::save_notification_locks,
    commands::admin::list_administered_teams,
    commands::admin::create_team,
    commands::admin::rename_team,
    commands::admin::delete_team,
    commands::admin::set_team_member,
    commands::admin::remove_team_member,
    commands::admin::rename_organization,
    commands::admin::merge_organizations,
    commands::admin::list_administered_fields,
    commands::admin::create_custom_field,
    commands::admin::update_custom_field,
    commands::admin::add_usergroup,
    commands::admin::remove_usergroup,
    commands::admin::get_integrations,
    commands::admin::create_integration_token,
    commands::admin::revoke_integration_token,
    commands::admin::set_hook_secret,
    commands::admin::remove_hook_secrets,
    commands::admin::list_department_requests,
    commands::admin::decide_department_request,
];

/// Values of `crates/core` the UI needs before any call.
// Read by the generator, which runs as a test.
#[cfg_attr(not(test), allow(dead_code))]
pub fn constants() -> serde_json::Result<Vec<ConstantSpec>> {
    let admin_only: Vec<EventType> = EventType::ALL
        .into_iter()
        .filter(|kind| kind.admin_only())
        .collect();
    let lockable: Vec<EventType> = EventType::ALL
        .into_iter()
        .filter(|kind| kind.configurable() && !kind.admin_only())
        .collect();
    Ok(vec![
        ConstantSpec::new(
            "EVENT_TYPES",
            "Every event type, in the order the server lists notification preferences.",
            &EventType::ALL[..],
        )?,
        ConstantSpec::new(
            "ADMIN_ONLY_EVENT_TYPES",
            "The types only an administrator may switch on: they are about other agents' work.",
            &admin_only,
        )?,
        ConstantSpec::new(
            "LOCKABLE_EVENT_TYPES",
            "The types whose channels administrators may lock for every agent.",
            &lockable,
        )?,
        ConstantSpec::new(
            "LOCK_REASON_MAX",
            "The most characters a lock's reason, shown to agents, may have.",
            &agent_desk_core::notifications::LOCK_REASON_MAX_CHARS,
        )?,
        ConstantSpec::new(
            "EMAIL_FREQUENCIES",
            "How often mail about an event type may go out, most mail first.",
            &EmailFrequency::ALL[..],
        )?,
        ConstantSpec::new(
            "JOIN_NOTE_MAX",
            "The most characters (code points of the trimmed text) a note on a join request or a decision may have.",
            &JOIN_NOTE_MAX,
        )?,
        ConstantSpec::new(
            "CUSTOMER_NOTE_MAX",
            "The most characters (code points of the trimmed text) a note on a person's record may have.",
            &NOTE_MAX,
        )?,
        ConstantSpec::new(
            "AGENT_PAGE_MAX",
            "The most agents one page of the administrators' list holds.",
            &AGENT_PAGE_MAX,
        )?,
        ConstantSpec::new(
            "WELCOME_LINK_VALID_DAYS",
            "How many days the link in a new agent's welcome mail works.",
            &WELCOME_LINK_VALID_DAYS,
        )?,
        ConstantSpec::new(
            "SIGNATURE_MAX",
            "The most characters (code points of the trimmed text) a signature may have.",
            &SIGNATURE_MAX,
        )?,
        ConstantSpec::new(
            "WEBHOOK_SOURCES",
            "The helpdesks whose webhooks the server takes.",
            &WebhookSource::ALL[..],
        )?,
        ConstantSpec::new(
            "INTEGRATION_SCOPES",
            "What an integration's token may be allowed to do.",
            &IntegrationScope::ALL[..],
        )?,
        ConstantSpec::new(
            "INTEGRATION_NAME_MAX",
            "The most characters an integration's name may have.",
            &INTEGRATION_NAME_MAX_CHARS,
        )?,
        ConstantSpec::new(
            "HOOK_GRACE_HOURS_MAX",
            "The most hours a replaced webhook secret may go on being accepted.",
            &HOOK_GRACE_HOURS_MAX,
        )?,
        ConstantSpec::new(
            "HOOK_GRACE_HOURS_DEFAULT",
            "The hours a replaced webhook secret goes on being accepted unless told otherwise.",
            &HOOK_GRACE_HOURS_DEFAULT,
        )?,
        ConstantSpec::new(
            "APP_LANGUAGES",
            "The languages the app is translated into: those an agent's profile may choose.",
            APP_LANGUAGES,
        )?,
    ])
}

/// What the generator writes out.
#[cfg_attr(not(test), allow(dead_code))]
pub fn definitions() -> serde_json::Result<Ipc> {
    Ok(Ipc {
        commands: command_specs(),
        events: crate::events::event_specs(),
        constants: constants()?,
    })
}

#[cfg(test)]
mod tests {
    use std::path::PathBuf;

    /// Named like ts-rs's own, so `make generate` runs it with them.
    #[test]
    fn export_bindings_commands_and_events() {
        let ui = std::env::var_os("TS_RS_EXPORT_DIR")
            .map(PathBuf::from)
            .expect("TS_RS_EXPORT_DIR is set in .cargo/config.toml");
        let shell = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
        super::definitions()
            .expect("the constants serialise")
            .write(&ui, &shell)
            .expect("the generated files are written");
    }
}
