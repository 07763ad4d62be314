ALTER TABLE `desired_objects` ADD `range_first` text;--> statement-breakpoint
ALTER TABLE `desired_objects` ADD `range_last` text;--> statement-breakpoint
CREATE INDEX `desired_objects_range` ON `desired_objects` (`account_id`,`kind`,`range_first`);--> statement-breakpoint
CREATE INDEX `desired_objects_live` ON `desired_objects` (`account_id`,`kind`,`deleted_at_ms`);