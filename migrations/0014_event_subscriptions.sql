CREATE TABLE `event_deliveries` (
	`id` text PRIMARY KEY NOT NULL,
	`account_id` text NOT NULL,
	`subscription_id` text NOT NULL,
	`event_id` text NOT NULL,
	`event_type` text NOT NULL,
	`payload_json` text NOT NULL,
	`status` text NOT NULL,
	`attempts_json` text NOT NULL,
	`next_attempt_at_ms` integer,
	`delivered_at_ms` integer,
	`created_at_ms` integer NOT NULL
);
--> statement-breakpoint
CREATE INDEX `event_deliveries_subscription` ON `event_deliveries` (`account_id`,`subscription_id`,`created_at_ms`,`id`);--> statement-breakpoint
CREATE TABLE `event_subscriptions` (
	`account_id` text NOT NULL,
	`id` text NOT NULL,
	`version` integer NOT NULL,
	`url` text NOT NULL,
	`events_json` text NOT NULL,
	`format` text NOT NULL,
	`description` text,
	`enabled` integer NOT NULL,
	`secret_ciphertext` text NOT NULL,
	`last_delivery_status` text,
	`last_delivery_at_ms` integer,
	`last_delivery_status_code` integer,
	`last_delivery_error` text,
	`created_at_ms` integer NOT NULL,
	`updated_at_ms` integer NOT NULL
);
--> statement-breakpoint
CREATE UNIQUE INDEX `event_subscriptions_pk` ON `event_subscriptions` (`account_id`,`id`);--> statement-breakpoint
CREATE INDEX `event_subscriptions_account_created` ON `event_subscriptions` (`account_id`,`created_at_ms`,`id`);