CREATE TABLE `dkim_keys` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`domain_id` integer NOT NULL,
	`selector` text NOT NULL,
	`algorithm` text NOT NULL,
	`private_key` text NOT NULL,
	`public_key` text NOT NULL,
	`active` integer DEFAULT true NOT NULL,
	`created_at` integer DEFAULT (unixepoch() * 1000) NOT NULL,
	`retired_at` integer,
	FOREIGN KEY (`domain_id`) REFERENCES `domains`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE UNIQUE INDEX `dkim_keys_domain_selector` ON `dkim_keys` (`domain_id`,`selector`);--> statement-breakpoint
CREATE TABLE `expunged` (
	`mailbox_id` integer NOT NULL,
	`uid` integer NOT NULL,
	`modseq` integer NOT NULL,
	PRIMARY KEY(`mailbox_id`, `uid`),
	FOREIGN KEY (`mailbox_id`) REFERENCES `mailboxes`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE INDEX `expunged_mailbox_modseq` ON `expunged` (`mailbox_id`,`modseq`);--> statement-breakpoint
ALTER TABLE `blobs` ADD `structure` text;--> statement-breakpoint
ALTER TABLE `domains` ADD `settings` text;--> statement-breakpoint
ALTER TABLE `users` ADD `quota_bytes` integer;