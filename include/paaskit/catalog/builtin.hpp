#pragma once
/// \file
/// The built-in services: n8n, Ghost and WordPress, each in at least two plans. Prices are credit
/// minor units per month. Images run as non-root users so their pods pass Pod Security
/// "restricted"; every password and key is generated per subscription.

#include <paaskit/catalog/definition.hpp>

#include <boost/json/parse.hpp>

#include <stdexcept>
#include <string_view>
#include <vector>

namespace paaskit::catalog {

inline constexpr std::string_view builtin_n8n = R"json({
  "schemaVersion": 1,
  "slug": "n8n",
  "name": "n8n",
  "category": "automation",
  "description": "Workflow automation with 400+ integrations: connect APIs, databases and AI models with a visual editor.",
  "icon": "/icons/n8n.svg",
  "exposePort": "http",
  "secrets": [
    {"name": "encryption-key", "length": 48},
    {"name": "db-password", "length": 32}
  ],
  "app": {
    "name": "n8n", "image": "docker.n8n.io/n8nio/n8n", "version": "1.70.3",
    "runAsUser": 1000, "fsGroup": 1000, "internetEgress": true,
    "ports": [{"name": "http", "port": 5678}],
    "env": [
      {"name": "N8N_PORT", "value": "5678"},
      {"name": "N8N_HOST", "value": "{{host}}"},
      {"name": "N8N_PROTOCOL", "value": "{{scheme}}"},
      {"name": "WEBHOOK_URL", "value": "{{url}}/"},
      {"name": "N8N_ENCRYPTION_KEY", "secret": "encryption-key"},
      {"name": "N8N_DIAGNOSTICS_ENABLED", "value": "false"},
      {"name": "GENERIC_TIMEZONE", "value": "UTC"},
      {"name": "DB_TYPE", "value": "postgresdb", "when": "postgres"},
      {"name": "DB_POSTGRESDB_HOST", "value": "{{companions.postgres.host}}", "when": "postgres"},
      {"name": "DB_POSTGRESDB_PORT", "value": "5432", "when": "postgres"},
      {"name": "DB_POSTGRESDB_DATABASE", "value": "n8n", "when": "postgres"},
      {"name": "DB_POSTGRESDB_USER", "value": "n8n", "when": "postgres"},
      {"name": "DB_POSTGRESDB_PASSWORD", "secret": "db-password", "when": "postgres"}
    ],
    "volumes": [{"name": "data", "mountPath": "/home/node/.n8n", "size": "plan"}],
    "readiness": {"type": "http", "path": "/healthz", "port": "http", "periodSeconds": 10},
    "liveness": {"type": "http", "path": "/healthz", "port": "http", "initialDelaySeconds": 30, "periodSeconds": 20}
  },
  "companions": [{
    "name": "postgres", "image": "postgres", "version": "17-alpine", "optional": true,
    "runAsUser": 70, "fsGroup": 70,
    "ports": [{"name": "postgres", "port": 5432}],
    "env": [
      {"name": "POSTGRES_DB", "value": "n8n"},
      {"name": "POSTGRES_USER", "value": "n8n"},
      {"name": "POSTGRES_PASSWORD", "secret": "db-password"},
      {"name": "PGDATA", "value": "/var/lib/postgresql/data/pgdata"}
    ],
    "volumes": [{"name": "data", "mountPath": "/var/lib/postgresql/data", "size": "plan"}],
    "readiness": {"type": "tcp", "port": "postgres", "periodSeconds": 5},
    "liveness": {"type": "tcp", "port": "postgres", "initialDelaySeconds": 30}
  }],
  "plans": [
    {"id": "starter", "name": "Starter", "monthlyPrice": 7500000, "storage": "5Gi",
     "resources": {"n8n": {"cpu": {"request": "250m", "limit": "1"}, "memory": {"request": "512Mi", "limit": "1Gi"}}}},
    {"id": "pro", "name": "Pro (PostgreSQL)", "monthlyPrice": 19900000, "storage": "20Gi", "companions": ["postgres"],
     "resources": {"n8n": {"cpu": {"request": "500m", "limit": "2"}, "memory": {"request": "1Gi", "limit": "2Gi"}},
                   "postgres": {"cpu": {"request": "250m", "limit": "1"}, "memory": {"request": "256Mi", "limit": "1Gi"}}}}
  ]
})json";

inline constexpr std::string_view builtin_ghost = R"json({
  "schemaVersion": 1,
  "slug": "ghost",
  "name": "Ghost",
  "category": "publishing",
  "description": "A modern publishing platform for blogs, newsletters and paid memberships.",
  "icon": "/icons/ghost.svg",
  "exposePort": "http",
  "secrets": [
    {"name": "db-password", "length": 32},
    {"name": "db-root-password", "length": 32}
  ],
  "app": {
    "name": "ghost", "image": "ghost", "version": "5-alpine",
    "runAsUser": 1000, "fsGroup": 1000, "internetEgress": true,
    "ports": [{"name": "http", "port": 2368}],
    "env": [
      {"name": "url", "value": "{{url}}"},
      {"name": "NODE_ENV", "value": "production"},
      {"name": "database__client", "value": "mysql"},
      {"name": "database__connection__host", "value": "{{companions.mysql.host}}"},
      {"name": "database__connection__user", "value": "ghost"},
      {"name": "database__connection__password", "secret": "db-password"},
      {"name": "database__connection__database", "value": "ghost"}
    ],
    "volumes": [{"name": "content", "mountPath": "/var/lib/ghost/content", "size": "plan"}],
    "readiness": {"type": "http", "path": "/ghost/api/admin/site/", "port": "http", "initialDelaySeconds": 10},
    "liveness": {"type": "tcp", "port": "http", "initialDelaySeconds": 60, "periodSeconds": 20}
  },
  "companions": [{
    "name": "mysql", "image": "mysql", "version": "8.4",
    "runAsUser": 999, "fsGroup": 999,
    "ports": [{"name": "mysql", "port": 3306}],
    "env": [
      {"name": "MYSQL_DATABASE", "value": "ghost"},
      {"name": "MYSQL_USER", "value": "ghost"},
      {"name": "MYSQL_PASSWORD", "secret": "db-password"},
      {"name": "MYSQL_ROOT_PASSWORD", "secret": "db-root-password"}
    ],
    "volumes": [{"name": "data", "mountPath": "/var/lib/mysql", "size": "plan"}],
    "readiness": {"type": "tcp", "port": "mysql", "periodSeconds": 5},
    "liveness": {"type": "tcp", "port": "mysql", "initialDelaySeconds": 60}
  }],
  "plans": [
    {"id": "starter", "name": "Starter", "monthlyPrice": 9900000, "storage": "5Gi",
     "resources": {"ghost": {"cpu": {"request": "250m", "limit": "1"}, "memory": {"request": "512Mi", "limit": "1Gi"}},
                   "mysql": {"cpu": {"request": "250m", "limit": "1"}, "memory": {"request": "512Mi", "limit": "1Gi"}}}},
    {"id": "business", "name": "Business", "monthlyPrice": 24900000, "storage": "20Gi",
     "resources": {"ghost": {"cpu": {"request": "500m", "limit": "2"}, "memory": {"request": "1Gi", "limit": "2Gi"}},
                   "mysql": {"cpu": {"request": "500m", "limit": "2"}, "memory": {"request": "1Gi", "limit": "2Gi"}}}}
  ]
})json";

inline constexpr std::string_view builtin_wordpress = R"json({
  "schemaVersion": 1,
  "slug": "wordpress",
  "name": "WordPress",
  "category": "cms",
  "description": "The world's most popular website builder and content management system.",
  "icon": "/icons/wordpress.svg",
  "exposePort": "http",
  "secrets": [
    {"name": "db-password", "length": 32},
    {"name": "db-root-password", "length": 32},
    {"name": "auth-key", "length": 64},
    {"name": "secure-auth-key", "length": 64},
    {"name": "logged-in-key", "length": 64},
    {"name": "nonce-key", "length": 64},
    {"name": "auth-salt", "length": 64},
    {"name": "secure-auth-salt", "length": 64},
    {"name": "logged-in-salt", "length": 64},
    {"name": "nonce-salt", "length": 64}
  ],
  "app": {
    "name": "wordpress", "image": "wordpress", "version": "6.7-apache",
    "runAsUser": 33, "fsGroup": 33, "internetEgress": true,
    "sysctls": [{"name": "net.ipv4.ip_unprivileged_port_start", "value": "0"}],
    "ports": [{"name": "http", "port": 80}],
    "env": [
      {"name": "WORDPRESS_DB_HOST", "value": "{{companions.mysql.host}}:3306"},
      {"name": "WORDPRESS_DB_USER", "value": "wordpress"},
      {"name": "WORDPRESS_DB_PASSWORD", "secret": "db-password"},
      {"name": "WORDPRESS_DB_NAME", "value": "wordpress"},
      {"name": "WORDPRESS_AUTH_KEY", "secret": "auth-key"},
      {"name": "WORDPRESS_SECURE_AUTH_KEY", "secret": "secure-auth-key"},
      {"name": "WORDPRESS_LOGGED_IN_KEY", "secret": "logged-in-key"},
      {"name": "WORDPRESS_NONCE_KEY", "secret": "nonce-key"},
      {"name": "WORDPRESS_AUTH_SALT", "secret": "auth-salt"},
      {"name": "WORDPRESS_SECURE_AUTH_SALT", "secret": "secure-auth-salt"},
      {"name": "WORDPRESS_LOGGED_IN_SALT", "secret": "logged-in-salt"},
      {"name": "WORDPRESS_NONCE_SALT", "secret": "nonce-salt"}
    ],
    "volumes": [{"name": "html", "mountPath": "/var/www/html", "size": "plan"}],
    "readiness": {"type": "http", "path": "/wp-login.php", "port": "http", "initialDelaySeconds": 10},
    "liveness": {"type": "tcp", "port": "http", "initialDelaySeconds": 60, "periodSeconds": 20}
  },
  "companions": [{
    "name": "mysql", "image": "mysql", "version": "8.4",
    "runAsUser": 999, "fsGroup": 999,
    "ports": [{"name": "mysql", "port": 3306}],
    "env": [
      {"name": "MYSQL_DATABASE", "value": "wordpress"},
      {"name": "MYSQL_USER", "value": "wordpress"},
      {"name": "MYSQL_PASSWORD", "secret": "db-password"},
      {"name": "MYSQL_ROOT_PASSWORD", "secret": "db-root-password"}
    ],
    "volumes": [{"name": "data", "mountPath": "/var/lib/mysql", "size": "plan"}],
    "readiness": {"type": "tcp", "port": "mysql", "periodSeconds": 5},
    "liveness": {"type": "tcp", "port": "mysql", "initialDelaySeconds": 60}
  }],
  "plans": [
    {"id": "personal", "name": "Personal", "monthlyPrice": 4900000, "storage": "10Gi",
     "resources": {"wordpress": {"cpu": {"request": "250m", "limit": "1"}, "memory": {"request": "256Mi", "limit": "512Mi"}},
                   "mysql": {"cpu": {"request": "250m", "limit": "1"}, "memory": {"request": "512Mi", "limit": "1Gi"}}}},
    {"id": "business", "name": "Business", "monthlyPrice": 14900000, "storage": "30Gi",
     "resources": {"wordpress": {"cpu": {"request": "500m", "limit": "2"}, "memory": {"request": "512Mi", "limit": "1Gi"}},
                   "mysql": {"cpu": {"request": "500m", "limit": "2"}, "memory": {"request": "1Gi", "limit": "2Gi"}}}}
  ]
})json";

/// The JSON texts of the built-in services.
inline std::vector<std::string_view> builtin_definition_texts() { return {builtin_n8n, builtin_ghost, builtin_wordpress}; }

/// The built-in services, parsed. They are part of the library: a problem in one is a bug, so
/// this throws instead of returning an error.
inline std::vector<service_definition> builtin_definitions()
{
    std::vector<service_definition> definitions;
    for (const std::string_view text : builtin_definition_texts()) {
        auto parsed = parse_definition(boost::json::parse(text));
        if (!parsed)
            throw std::logic_error("built-in service definition is invalid: " + parsed.error().message());
        definitions.push_back(std::move(*parsed));
    }
    return definitions;
}

} // namespace paaskit::catalog
