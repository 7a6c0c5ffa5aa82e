-- The star schema. Keys are the sources' natural keys (a type-2 version's key adds its start), so
-- a dimension rebuilt from the lake keeps every fact's reference valid. Each dimension has an
-- 'unknown' member: a fact whose reference the lake does not know points there and is counted in
-- core.load_log, never dropped.

CREATE TABLE core.dim_date (
  date_key      INTEGER      NOT NULL PRIMARY KEY,  -- yyyymmdd
  calendar_date DATE         NOT NULL,
  year          SMALLINT     NOT NULL,
  month         SMALLINT     NOT NULL,
  day_of_month  SMALLINT     NOT NULL,
  iso_weekday   SMALLINT     NOT NULL               -- 1 = Monday
);

CREATE TABLE core.dim_city (
  city VARCHAR(64) NOT NULL PRIMARY KEY
);

CREATE TABLE core.dim_vehicle (
  vehicle_id VARCHAR(64) NOT NULL PRIMARY KEY
);

-- Type 2: one row per version of a customer, valid from its commit time until the next one's.
CREATE TABLE core.dim_customer (
  customer_version_key VARCHAR(96)  NOT NULL PRIMARY KEY,  -- customer_id@valid_from, or 'unknown'
  customer_id          VARCHAR(64)  NOT NULL,
  segment              VARCHAR(64),                         -- null once deleted
  valid_from           TIMESTAMP    NOT NULL,
  valid_to             TIMESTAMP,                           -- null while current
  version_number       INTEGER      NOT NULL,
  is_deleted           BOOLEAN      NOT NULL
);

CREATE TABLE core.dim_shipment (
  shipment_id      VARCHAR(64) NOT NULL PRIMARY KEY,
  vehicle_id       VARCHAR(64),
  customer_id      VARCHAR(64),
  origin_city      VARCHAR(64),
  destination_city VARCHAR(64),
  departed_at      TIMESTAMP,
  arrived_at       TIMESTAMP
);

-- One row per city and hour the weather pull observed (or flagged missing).
CREATE TABLE core.dim_weather (
  weather_key      VARCHAR(96) NOT NULL PRIMARY KEY,        -- city@hour, or 'unknown'
  city             VARCHAR(64) NOT NULL,
  observation_hour TIMESTAMP   NOT NULL,
  temperature_c    DOUBLE PRECISION,
  temp_range       VARCHAR(16),
  condition        VARCHAR(32),
  is_missing       BOOLEAN     NOT NULL
);

-- One row per telematics interval (the lake's aggregated.fuel_intervals), every outcome.
CREATE TABLE core.fact_fuel_interval (
  date_key             INTEGER          NOT NULL,
  interval_end         TIMESTAMP        NOT NULL,
  hour_of_day          SMALLINT         NOT NULL,
  vehicle_id           VARCHAR(64)      NOT NULL,
  shipment_id          VARCHAR(64)      NOT NULL,
  customer_version_key VARCHAR(96)      NOT NULL,
  city                 VARCHAR(64)      NOT NULL,
  weather_key          VARCHAR(96)      NOT NULL,
  customer_segment     VARCHAR(64)      NOT NULL,  -- as the KPI counts it: 'unknown' where none applies
  distance_km          DOUBLE PRECISION,
  fuel_l               DOUBLE PRECISION,
  outcome              VARCHAR(32)      NOT NULL   -- in_kpi, no_shipment, no_weather, or the interval's status
);

-- The KPI's grain: per day, city, temperature range, weather condition and customer segment.
CREATE TABLE core.fact_daily_fuel (
  date_key          INTEGER          NOT NULL,
  city              VARCHAR(64)      NOT NULL,
  temp_range        VARCHAR(16)      NOT NULL,
  weather_condition VARCHAR(32)      NOT NULL,
  customer_segment  VARCHAR(64)      NOT NULL,
  intervals         BIGINT           NOT NULL,
  vehicles          BIGINT           NOT NULL,
  distance_km       DOUBLE PRECISION NOT NULL,
  fuel_l            DOUBLE PRECISION NOT NULL
);

-- The latest load of each date: what it wrote, and the intervals it pointed at an unknown member.
CREATE TABLE core.load_log (
  date_key          INTEGER NOT NULL,
  intervals         BIGINT  NOT NULL,
  daily_rows        BIGINT  NOT NULL,
  without_shipment  BIGINT  NOT NULL,  -- no shipment covered the interval (outcome no_shipment)
  unknown_customer  BIGINT  NOT NULL,  -- a shipment whose customer the CRM history does not know
  without_weather   BIGINT  NOT NULL   -- a shipment, but no weather observation for its city and hour
);

-- How far the lake's ledger of recomputed KPI dates has been loaded (load/advance_watermark.sql).
CREATE TABLE core.load_watermark (
  recomputed_until TIMESTAMP NOT NULL
);

-- The unknown members.
INSERT INTO core.dim_city (city) VALUES ('unknown');
INSERT INTO core.dim_customer (customer_version_key, customer_id, segment, valid_from, valid_to, version_number, is_deleted)
  VALUES ('unknown', 'unknown', NULL, TIMESTAMP '1970-01-01 00:00:00', NULL, 0, FALSE);
INSERT INTO core.dim_shipment (shipment_id) VALUES ('unknown');
INSERT INTO core.dim_weather (weather_key, city, observation_hour, is_missing) VALUES ('unknown', 'unknown', TIMESTAMP '1970-01-01 00:00:00', TRUE);
