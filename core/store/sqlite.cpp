#include "core/store/sqlite.h"

#include "core/util/errors.h"

#include <chrono>
#include <thread>

namespace continua::core::sql {
namespace {
constexpr int kBusyTimeoutMs = 10000;
}  // namespace

Database::Database(const std::string& path, bool readOnly) : m_path(path) {
  const int flags = readOnly ? SQLITE_OPEN_READONLY : (SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE);
  if (sqlite3_open_v2(path.c_str(), &m_db, flags | SQLITE_OPEN_FULLMUTEX, nullptr) != SQLITE_OK) {
    std::string msg = m_db ? sqlite3_errmsg(m_db) : "out of memory";
    sqlite3_close(m_db);
    m_db = nullptr;
    throw StoreError("cannot open run database " + path + ": " + msg);
  }
  // Readers (the workbench, a second CLI) wait instead of failing while the writer commits.
  sqlite3_busy_timeout(m_db, kBusyTimeoutMs);
  exec("PRAGMA foreign_keys = ON");
}

Database::~Database() { sqlite3_close(m_db); }

void Database::fail(const std::string& what) const {
  throw StoreError("run database " + m_path + ": " + what + ": " + sqlite3_errmsg(m_db));
}

int Database::tryExec(const std::string& sql, std::string& error) {
  char* err = nullptr;
  const int rc = sqlite3_exec(m_db, sql.c_str(), nullptr, nullptr, &err);
  error = err ? err : "unknown error";
  sqlite3_free(err);
  return rc;
}

void Database::failExec(const std::string& sql, const std::string& error) const {
  throw StoreError("run database " + m_path + ": " + error + " (in: " + sql.substr(0, 80) + ")");
}

void Database::exec(const std::string& sql) {
  std::string error;
  if (tryExec(sql, error) != SQLITE_OK) failExec(sql, error);
}

void Database::execWaitingForLocks(const std::string& sql) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(kBusyTimeoutMs);
  std::string error;
  for (;;) {
    const int rc = tryExec(sql, error);
    if (rc == SQLITE_OK) return;
    if ((rc & 0xff) != SQLITE_BUSY || std::chrono::steady_clock::now() >= deadline) failExec(sql, error);
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
}

int64_t Database::lastInsertId() const { return sqlite3_last_insert_rowid(m_db); }

Statement::Statement(Database& db, const std::string& sql) : m_db(db) {
  if (sqlite3_prepare_v2(db.handle(), sql.c_str(), -1, &m_stmt, nullptr) != SQLITE_OK) db.fail("cannot prepare '" + sql + "'");
}
Statement::~Statement() { sqlite3_finalize(m_stmt); }

// Every bind's return code is checked: a failed bind would otherwise run the statement with NULL there.
Statement& Statement::checked(int rc, int i) {
  if (rc != SQLITE_OK) m_db.fail("binding parameter " + std::to_string(i) + " (" + sqlite3_errstr(rc) + ")");
  return *this;
}
Statement& Statement::bind(int i, int64_t v) { return checked(sqlite3_bind_int64(m_stmt, i, v), i); }
Statement& Statement::bind(int i, double v) { return checked(sqlite3_bind_double(m_stmt, i, v), i); }
Statement& Statement::bind(int i, const std::string& v) {
  return checked(sqlite3_bind_text64(m_stmt, i, v.c_str(), v.size(), SQLITE_TRANSIENT, SQLITE_UTF8), i);
}
Statement& Statement::bindBlob(int i, const void* data, size_t bytes) {
  return checked(sqlite3_bind_blob64(m_stmt, i, data, bytes, SQLITE_TRANSIENT), i);
}
Statement& Statement::bindNull(int i) { return checked(sqlite3_bind_null(m_stmt, i), i); }

bool Statement::step() {
  const int rc = sqlite3_step(m_stmt);
  if (rc == SQLITE_ROW) return true;
  if (rc == SQLITE_DONE) return false;
  m_db.fail("statement failed");
}
void Statement::run() { while (step()) {} }
void Statement::reset() { sqlite3_reset(m_stmt); sqlite3_clear_bindings(m_stmt); }
int64_t Statement::integer(int c) const { return sqlite3_column_int64(m_stmt, c); }
double Statement::real(int c) const { return sqlite3_column_double(m_stmt, c); }
bool Statement::isNull(int c) const { return sqlite3_column_type(m_stmt, c) == SQLITE_NULL; }
std::string Statement::text(int c) const {
  const auto* t = sqlite3_column_text(m_stmt, c);
  return t ? std::string(reinterpret_cast<const char*>(t)) : std::string();
}
std::vector<float> Statement::floats(int c) const {
  const auto* p = static_cast<const float*>(sqlite3_column_blob(m_stmt, c));
  const int bytes = sqlite3_column_bytes(m_stmt, c);
  return p ? std::vector<float>(p, p + bytes / sizeof(float)) : std::vector<float>();
}

Transaction::Transaction(Database& db) : m_db(db) { m_db.exec("BEGIN IMMEDIATE"); }
Transaction::~Transaction() {
  if (!m_done) sqlite3_exec(m_db.handle(), "ROLLBACK", nullptr, nullptr, nullptr);
}
void Transaction::commit() {
  m_db.exec("COMMIT");
  m_done = true;
}

}  // namespace continua::core::sql
