-- The physical design: the only Redshift-only clauses of the star, set while its tables are empty.
-- The fact tables are distributed on the vehicle: intervals spread evenly (thousands of vehicles),
-- and a vehicle's rows sit on one slice for the distinct-vehicle counts of every KPI. They are
-- sorted on the date first, which every query and every daily load filters on. The dimensions
-- are small and copied to every node (ALL), so no star join moves fact rows.
ALTER TABLE core.fact_fuel_interval ALTER DISTSTYLE KEY DISTKEY vehicle_id;
ALTER TABLE core.fact_fuel_interval ALTER COMPOUND SORTKEY (date_key, vehicle_id);
ALTER TABLE core.fact_daily_fuel ALTER DISTSTYLE ALL;
ALTER TABLE core.fact_daily_fuel ALTER COMPOUND SORTKEY (date_key, city);
ALTER TABLE core.dim_date ALTER DISTSTYLE ALL;
ALTER TABLE core.dim_city ALTER DISTSTYLE ALL;
ALTER TABLE core.dim_vehicle ALTER DISTSTYLE ALL;
ALTER TABLE core.dim_customer ALTER DISTSTYLE ALL;
ALTER TABLE core.dim_shipment ALTER DISTSTYLE ALL;
ALTER TABLE core.dim_weather ALTER DISTSTYLE ALL;
ALTER TABLE core.dim_weather ALTER COMPOUND SORTKEY (observation_hour);
