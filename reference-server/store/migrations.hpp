#pragma once
// The reference server's own tables. Append new migrations; never edit an applied one (the
// checksum check refuses to start against a database where an applied migration changed).

#include <paaskit/pg/migrations.hpp>

#include <vector>

namespace paaskit::server::store {

inline std::vector<pg::migration> server_migrations()
{
    return {
        {1, "server_instances",
         R"sql(
CREATE TABLE paaskit_server_instances (
    id         uuid        PRIMARY KEY,
    hostname   text        NOT NULL,
    started_at timestamptz NOT NULL DEFAULT now()
);
)sql"},
        {2, "users",
         R"sql(
CREATE TABLE paaskit_users (
    id            uuid        PRIMARY KEY,
    email         text        NOT NULL CHECK (length(email) BETWEEN 3 AND 254),
    name          text        NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
    role          text        NOT NULL CHECK (role IN ('USER', 'ADMINISTRATOR')),
    status        text        NOT NULL CHECK (status IN ('ACTIVE', 'DEACTIVATED')),
    password_hash text        NOT NULL,
    created_at    timestamptz NOT NULL,
    updated_at    timestamptz NOT NULL,
    last_login_at timestamptz,
    deleted_at    timestamptz -- soft delete: ledger accounts and invoices keep referring to the user
);
-- E-mail addresses are unique ignoring case among users that are not deleted.
CREATE UNIQUE INDEX paaskit_users_email ON paaskit_users (lower(email)) WHERE deleted_at IS NULL;
CREATE INDEX paaskit_users_created ON paaskit_users (created_at) WHERE deleted_at IS NULL;
)sql"},
    };
}

} // namespace paaskit::server::store
