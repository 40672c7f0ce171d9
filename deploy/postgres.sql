-- The PostgreSQL role and database for Yishiting. Run once, as the postgres superuser:
--   sudo -u postgres psql -v ON_ERROR_STOP=1 -f deploy/postgres.sql
-- The role has no password: the services run as the OS user yishiting and connect over the
-- Unix socket, which Debian's default pg_hba.conf lets in by peer authentication.
-- (For a password over TCP instead: ALTER ROLE yishiting PASSWORD '…'; and put it in the URL.)
CREATE ROLE yishiting LOGIN;
-- The owner creates the tables (`yishiting init`); C.UTF-8 sorts the same on every machine.
CREATE DATABASE yishiting OWNER yishiting ENCODING 'UTF8' LOCALE 'C.UTF-8' TEMPLATE template0;
