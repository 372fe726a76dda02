-- Custom SQL migration file, put your code below! --
CREATE TRIGGER `messages_count_ai` AFTER INSERT ON `messages` BEGIN
	UPDATE `users` SET `message_count` = `message_count` + 1 WHERE `id` = new.`user_id`;
END;
--> statement-breakpoint
CREATE TRIGGER `messages_count_ad` AFTER DELETE ON `messages` BEGIN
	UPDATE `users` SET `message_count` = `message_count` - 1 WHERE `id` = old.`user_id`;
END;
