CREATE TABLE `access_role_bindings` (
	`id` text PRIMARY KEY NOT NULL,
	`email` text NOT NULL,
	`role` text NOT NULL,
	`accounts_json` text NOT NULL,
	`created_by` text NOT NULL,
	`created_at_ms` integer NOT NULL
);
--> statement-breakpoint
CREATE UNIQUE INDEX `access_role_bindings_email` ON `access_role_bindings` (`email`);--> statement-breakpoint
CREATE INDEX `access_role_bindings_created` ON `access_role_bindings` (`created_at_ms`,`id`);--> statement-breakpoint
CREATE TABLE `api_keys` (
	`id` text PRIMARY KEY NOT NULL,
	`name` text NOT NULL,
	`role` text NOT NULL,
	`accounts_json` text NOT NULL,
	`ticket_system` text,
	`prefix` text NOT NULL,
	`secret_hash` text NOT NULL,
	`expires_at_ms` integer,
	`revoked_at_ms` integer,
	`created_by` text NOT NULL,
	`created_at_ms` integer NOT NULL
);
--> statement-breakpoint
CREATE UNIQUE INDEX `api_keys_name` ON `api_keys` (`name`);--> statement-breakpoint
CREATE UNIQUE INDEX `api_keys_secret_hash` ON `api_keys` (`secret_hash`);--> statement-breakpoint
CREATE INDEX `api_keys_created` ON `api_keys` (`created_at_ms`,`id`);--> statement-breakpoint
ALTER TABLE `audit_log` ADD `request_id` text;--> statement-breakpoint
ALTER TABLE `audit_log` ADD `prev_hash` text;--> statement-breakpoint
ALTER TABLE `audit_log` ADD `hash` text;--> statement-breakpoint
CREATE INDEX `audit_log_account_hash` ON `audit_log` (`account_id`,`hash`);