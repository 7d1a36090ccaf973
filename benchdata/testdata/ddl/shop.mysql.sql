-- Dialect: mysql | Database: shop
CREATE TABLE `shop`.`Customer` (
    `Customer_ID` INT,
    `Full Name` VARCHAR(100) COMMENT 'as printed on invoices',
    `Joined` DATETIME,
    PRIMARY KEY (`Customer_ID`)
) COMMENT = 'people who bought something';

CREATE TABLE Product (
    product_id INTEGER PRIMARY KEY,
    price DECIMAL(10,2) UNSIGNED,
    UNIQUE (product_id)
);

CREATE TABLE `shop`.`Order_Line` (
    `Order_ID` INT,
    `Line_No` INT,
    `Customer_ID` INT REFERENCES `Customer` (`Customer_ID`),
    `product_id` INT,
    PRIMARY KEY (`Order_ID`, `Line_No`),
    INDEX idx_product (`product_id`),
    FOREIGN KEY (`product_id`) REFERENCES `shop`.`Product` (`product_id`)
);

CREATE TABLE `shop`.`Line_Note` (
    `Order_ID` INT,
    `Line_No` INT,
    `Note` TEXT,
    FOREIGN KEY (`Order_ID`, `Line_No`) REFERENCES `Order_Line` (`Order_ID`, `Line_No`)
);

INSERT INTO `Product` VALUES (1, 2.50);
CREATE INDEX by_note ON `Line_Note` (`Note`(10));
