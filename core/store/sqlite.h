#pragma once
// A thin RAII layer over the SQLite C API: a connection and prepared statements whose errors become
// StoreError with SQLite's message and the database path.
#include <sqlite3.h>

#include <cstdint>
#include <string>
#include <vector>

namespace continua::core::sql {

class Database;

class Statement {
 public:
  Statement(Database& db, const std::string& sql);
  ~Statement();
  Statement(const Statement&) = delete;
  Statement& operator=(const Statement&) = delete;

  Statement& bind(int i, int64_t v);
  Statement& bind(int i, double v);
  Statement& bind(int i, const std::string& v);
  Statement& bindBlob(int i, const void* data, size_t bytes);
  Statement& bindNull(int i);
  bool step();   // true while a row is available
  void run();    // step to completion
  void reset();
  int64_t integer(int col) const;
  double real(int col) const;
  std::string text(int col) const;
  std::vector<float> floats(int col) const;  // a float32 blob
  bool isNull(int col) const;

 private:
  Statement& checked(int rc, int i);
  Database& m_db;
  sqlite3_stmt* m_stmt = nullptr;
};

class Database {
 public:
  Database(const std::string& path, bool readOnly);
  ~Database();
  Database(const Database&) = delete;
  Database& operator=(const Database&) = delete;
  void exec(const std::string& sql);
  // exec, retried while another connection holds a lock, for as long as the busy timeout would wait: SQLite does
  // not call its busy handler where waiting could deadlock (PRAGMA journal_mode while another opener of a new
  // file holds a lock) and returns "database is locked" at once.
  void execWaitingForLocks(const std::string& sql);
  int64_t lastInsertId() const;
  sqlite3* handle() const { return m_db; }
  const std::string& path() const { return m_path; }
  [[noreturn]] void fail(const std::string& what) const;

 private:
  int tryExec(const std::string& sql, std::string& error);
  [[noreturn]] void failExec(const std::string& sql, const std::string& error) const;

  sqlite3* m_db = nullptr;
  std::string m_path;
};

// BEGIN IMMEDIATE ... COMMIT, rolled back if not committed (an exception unwinds past it).
class Transaction {
 public:
  explicit Transaction(Database& db);
  ~Transaction();
  void commit();

 private:
  Database& m_db;
  bool m_done = false;
};

}  // namespace continua::core::sql
