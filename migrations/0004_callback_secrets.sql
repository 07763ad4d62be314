CREATE TABLE `callback_receivers` (
	`account_id` text NOT NULL,
	`ticket_system` text NOT NULL,
	`secret_ciphertext` text NOT NULL,
	`previous_secret_ciphertext` text,
	`previous_secret_until_ms` integer,
	`updated_at_ms` integer NOT NULL,
	PRIMARY KEY(`account_id`, `ticket_system`),
	FOREIGN KEY (`account_id`) REFERENCES `accounts`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
ALTER TABLE `grant_settings` ADD `previous_callback_secret_ciphertext` text;--> statement-breakpoint
ALTER TABLE `grant_settings` ADD `previous_callback_secret_until_ms` integer;--> statement-breakpoint
ALTER TABLE `grant_settings` ADD `callback_allowed_ports_json` text DEFAULT '[]' NOT NULL;