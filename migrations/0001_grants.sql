CREATE TABLE `grant_approval_rules` (
	`account_id` text NOT NULL,
	`id` text NOT NULL,
	`version` integer NOT NULL,
	`name` text NOT NULL,
	`effect` text NOT NULL,
	`max_duration_s` integer,
	`allowed_destinations_json` text NOT NULL,
	`allowed_systems_json` text NOT NULL,
	`subject_email_pattern` text,
	`created_at_ms` integer NOT NULL,
	`updated_at_ms` integer NOT NULL,
	FOREIGN KEY (`account_id`) REFERENCES `accounts`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE UNIQUE INDEX `grant_approval_rules_pk` ON `grant_approval_rules` (`account_id`,`id`);--> statement-breakpoint
CREATE INDEX `grant_approval_rules_account_created` ON `grant_approval_rules` (`account_id`,`created_at_ms`,`id`);--> statement-breakpoint
CREATE TABLE `grant_deliveries` (
	`id` text PRIMARY KEY NOT NULL,
	`account_id` text NOT NULL,
	`grant_id` text NOT NULL,
	`event` text NOT NULL,
	`url` text NOT NULL,
	`payload_json` text NOT NULL,
	`status` text NOT NULL,
	`attempts_json` text NOT NULL,
	`next_attempt_at_ms` integer,
	`delivered_at_ms` integer,
	`created_at_ms` integer NOT NULL
);
--> statement-breakpoint
CREATE INDEX `grant_deliveries_grant` ON `grant_deliveries` (`account_id`,`grant_id`,`created_at_ms`);--> statement-breakpoint
CREATE INDEX `grant_deliveries_due` ON `grant_deliveries` (`account_id`,`status`,`next_attempt_at_ms`);--> statement-breakpoint
CREATE TABLE `grant_events` (
	`id` text PRIMARY KEY NOT NULL,
	`account_id` text NOT NULL,
	`grant_id` text NOT NULL,
	`event` text NOT NULL,
	`from_state` text,
	`to_state` text NOT NULL,
	`actor` text NOT NULL,
	`reason` text,
	`at_ms` integer NOT NULL
);
--> statement-breakpoint
CREATE INDEX `grant_events_grant_at` ON `grant_events` (`account_id`,`grant_id`,`at_ms`,`id`);--> statement-breakpoint
CREATE TABLE `grant_settings` (
	`account_id` text PRIMARY KEY NOT NULL,
	`callback_secret_ciphertext` text NOT NULL,
	`updated_at_ms` integer NOT NULL,
	FOREIGN KEY (`account_id`) REFERENCES `accounts`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE TABLE `grants` (
	`account_id` text NOT NULL,
	`id` text NOT NULL,
	`version` integer NOT NULL,
	`state` text NOT NULL,
	`ticket_system` text NOT NULL,
	`ticket_id` text NOT NULL,
	`ticket_url` text,
	`subject_email` text NOT NULL,
	`destinations_json` text NOT NULL,
	`ports_json` text NOT NULL,
	`protocols_json` text NOT NULL,
	`reason` text NOT NULL,
	`starts_at_ms` integer NOT NULL,
	`ends_at_ms` integer NOT NULL,
	`callback_url` text,
	`extends_grant_id` text,
	`requested_by` text NOT NULL,
	`decision_json` text,
	`check_json` text,
	`activated_at_ms` integer,
	`ended_at_ms` integer,
	`policy_precedence` integer,
	`policy_cloudflare_id` text,
	`policy_sync_state` text NOT NULL,
	`policy_synced_version` integer,
	`policy_last_error` text,
	`created_at_ms` integer NOT NULL,
	`updated_at_ms` integer NOT NULL,
	FOREIGN KEY (`account_id`) REFERENCES `accounts`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE UNIQUE INDEX `grants_pk` ON `grants` (`account_id`,`id`);--> statement-breakpoint
CREATE INDEX `grants_account_created` ON `grants` (`account_id`,`created_at_ms`,`id`);--> statement-breakpoint
CREATE INDEX `grants_account_state_ends` ON `grants` (`account_id`,`state`,`ends_at_ms`);--> statement-breakpoint
CREATE INDEX `grants_account_subject` ON `grants` (`account_id`,`subject_email`,`created_at_ms`);--> statement-breakpoint
CREATE INDEX `grants_account_ticket` ON `grants` (`account_id`,`ticket_system`,`ticket_id`);--> statement-breakpoint
CREATE TABLE `idempotency_keys` (
	`account_id` text NOT NULL,
	`scope` text NOT NULL,
	`key` text NOT NULL,
	`request_hash` text NOT NULL,
	`state` text NOT NULL,
	`response_status` integer,
	`response_body` text,
	`response_headers_json` text,
	`created_at_ms` integer NOT NULL
);
--> statement-breakpoint
CREATE UNIQUE INDEX `idempotency_keys_pk` ON `idempotency_keys` (`account_id`,`scope`,`key`);