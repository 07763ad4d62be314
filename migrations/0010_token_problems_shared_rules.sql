ALTER TABLE `accounts` ADD `token_problems_json` text;--> statement-breakpoint
ALTER TABLE `accounts` ADD `shared_rules_json` text;