#!/bin/sh
# /docker-entrypoint-initdb.d hook of the postgres image: runs roles.sql with the logins'
# passwords from the environment (APP_DB_PASSWORD, BACKUP_DB_PASSWORD), so no secret is
# written into a file.
set -eu
psql --variable=ON_ERROR_STOP=1 \
    --username "$POSTGRES_USER" --dbname "$POSTGRES_DB" \
    --set=app_password="$APP_DB_PASSWORD" --set=backup_password="$BACKUP_DB_PASSWORD" \
    --set=db_name="$POSTGRES_DB" \
    --file=/deploy/roles.sql
