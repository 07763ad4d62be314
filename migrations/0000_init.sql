CREATE TABLE `accounts` (
	`id` text PRIMARY KEY NOT NULL,
	`name` text NOT NULL,
	`mode` text NOT NULL,
	`api_token_ciphertext` text NOT NULL,
	`reconcile_interval_s` integer NOT NULL,
	`next_reconcile_at_ms` integer NOT NULL,
	`version` integer NOT NULL,
	`created_at_ms` integer NOT NULL,
	`updated_at_ms` integer NOT NULL
);
--> statement-breakpoint
CREATE TABLE `audit_log` (
	`id` text PRIMARY KEY NOT NULL,
	`account_id` text NOT NULL,
	`actor` text NOT NULL,
	`action` text NOT NULL,
	`kind` text NOT NULL,
	`object_id` text NOT NULL,
	`before_json` text,
	`after_json` text,
	`at_ms` integer NOT NULL
);
--> statement-breakpoint
CREATE INDEX `audit_log_account_at` ON `audit_log` (`account_id`,`at_ms`,`id`);--> statement-breakpoint
CREATE TABLE `desired_objects` (
	`account_id` text NOT NULL,
	`kind` text NOT NULL,
	`id` text NOT NULL,
	`natural_key` text,
	`spec_json` text NOT NULL,
	`version` integer NOT NULL,
	`sync_state` text NOT NULL,
	`cloudflare_id` text,
	`last_error` text,
	`synced_version` integer,
	`synced_at_ms` integer,
	`create_requested_at_ms` integer,
	`observed_json` text,
	`deleted_at_ms` integer,
	`created_at_ms` integer NOT NULL,
	`updated_at_ms` integer NOT NULL,
	FOREIGN KEY (`account_id`) REFERENCES `accounts`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE UNIQUE INDEX `desired_objects_pk` ON `desired_objects` (`account_id`,`kind`,`id`);--> statement-breakpoint
CREATE UNIQUE INDEX `desired_objects_natural_key` ON `desired_objects` (`account_id`,`kind`,`natural_key`);--> statement-breakpoint
CREATE TABLE `runs` (
	`id` text PRIMARY KEY NOT NULL,
	`account_id` text NOT NULL,
	`trigger` text NOT NULL,
	`mode` text NOT NULL,
	`outcome` text NOT NULL,
	`fencing_token` integer,
	`started_at_ms` integer NOT NULL,
	`finished_at_ms` integer,
	`counts_json` text NOT NULL,
	`actions_json` text NOT NULL,
	`drift_json` text NOT NULL,
	`errors_json` text NOT NULL,
	`continued` integer NOT NULL,
	FOREIGN KEY (`account_id`) REFERENCES `accounts`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE INDEX `runs_account_started` ON `runs` (`account_id`,`started_at_ms`,`id`);