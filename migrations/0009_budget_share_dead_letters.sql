CREATE TABLE `dead_letters` (
	`id` text PRIMARY KEY NOT NULL,
	`account_id` text NOT NULL,
	`attempts` integer NOT NULL,
	`sent_at_ms` integer NOT NULL,
	`dead_lettered_at_ms` integer NOT NULL
);
--> statement-breakpoint
CREATE INDEX `dead_letters_by_time` ON `dead_letters` (`dead_lettered_at_ms`,`id`);--> statement-breakpoint
ALTER TABLE `accounts` ADD `api_budget_share` real;