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
-- Scheduled backups (pg_dump, run by the workers) log in as everything_app_backup: it reads
-- every table (pg_read_all_data) past row-level security (BYPASSRLS, else pg_dump would stop
-- rather than dump some rows only), and can write nothing.
CREATE ROLE everything_app_backup LOGIN NOSUPERUSER BYPASSRLS NOCREATEDB NOCREATEROLE
    PASSWORD :'backup_password' IN ROLE pg_read_all_data;
GRANT CONNECT ON DATABASE :"db_name" TO everything_app_backup;
