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
    };
}

} // namespace paaskit::server::store
