-- Run once, when the PostgreSQL volume is first initialised (see init-roles.sh), as the
-- superuser. The runtime role is the one migration 0003 grants data access to (it creates it
-- when missing too, but the login below must be a member of it before the apps start).
-- The apps log in as everything_app_login: neither superuser nor BYPASSRLS, so row-level
-- security applies to every request. Migrations run as the tables' owner (POSTGRES_USER).
CREATE ROLE everything_app NOLOGIN NOSUPERUSER NOBYPASSRLS NOCREATEDB NOCREATEROLE;
CREATE ROLE everything_app_login LOGIN NOSUPERUSER NOBYPASSRLS NOCREATEDB NOCREATEROLE
    PASSWORD :'app_password' IN ROLE everything_app;
-- The login needs to reach the database; table grants come from the migrations.
GRANT CONNECT ON DATABASE :"db_name" TO everything_app_login;
