-- Dimension tables
CREATE SCHEMA IF NOT EXISTS sales;

CREATE TABLE sbCustomer (
  sbCustId varchar(20) PRIMARY KEY,
  "Full Name" text NOT NULL, -- as printed; may hold a comma, or a ';'
  joined timestamptz,
  tags text[]
);

CREATE TABLE sales.orders (
  id SERIAL PRIMARY KEY,
  customer_id varchar(20) NOT NULL REFERENCES sbCustomer(sbCustId),
  total numeric(10,2),
  big_flag boolean DEFAULT false, /* set by the nightly job */
  placed_at TIMESTAMP NOT NULL
);

CREATE TABLE sales.order_lines (
  order_id INT REFERENCES sales.orders,
  line_no smallint,
  qty double precision,
  PRIMARY KEY (order_id, line_no)
);

CREATE TABLE sales."Line Notes" (
  order_id INT,
  line_no smallint,
  note text,
  CONSTRAINT fk_line FOREIGN KEY (order_id, line_no) REFERENCES sales.order_lines (order_id, line_no)
);

INSERT INTO sbCustomer (sbCustId, "Full Name") VALUES ('C1', 'Ann; Smith');
CREATE INDEX ON sales.orders (placed_at);
