#include "ui/guarded_application.h"

#include <exception>

namespace continua::ui {

bool GuardedApplication::notify(QObject* receiver, QEvent* event) {
  try {
    return QApplication::notify(receiver, event);
  } catch (const std::exception& e) {
    emit handlerFailed(QString::fromUtf8(e.what()));
  } catch (...) {
    emit handlerFailed("an unknown error in an event handler");
  }
  return false;
}

}  // namespace continua::ui
