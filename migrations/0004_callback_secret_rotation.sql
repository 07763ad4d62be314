ALTER TABLE `grant_settings` ADD `previous_callback_secret_ciphertext` text;--> statement-breakpoint
ALTER TABLE `grant_settings` ADD `previous_callback_secret_until_ms` integer;--> statement-breakpoint
ALTER TABLE `grant_settings` ADD `callback_allowed_ports_json` text DEFAULT '[]' NOT NULL;