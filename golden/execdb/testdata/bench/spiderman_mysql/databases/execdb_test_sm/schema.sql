-- Dialect: mysql | Database: execdb_test_sm | Table Count: 3

CREATE TABLE `execdb_test_sm`.`Parent` (
    `id` INTEGER,
    `Name` TEXT,
    `score` REAL,
    `born` DATE,
    `seen` DATETIME,
    PRIMARY KEY (`id`)
);

CREATE TABLE `execdb_test_sm`.`a_child` (
    `id` INTEGER,
    `parent_id` INTEGER,
    `note` VARCHAR(50),
    PRIMARY KEY (`id`),
    FOREIGN KEY (`parent_id`) REFERENCES `execdb_test_sm`.`Parent` (`id`)
);

CREATE TABLE `execdb_test_sm`.`no_data` (
    `x` INT
);
