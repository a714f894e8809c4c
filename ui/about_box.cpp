#include "ui/about_box.h"

#include "continua_version.h"

#include <QMessageBox>

// Resources of a static library must be registered by name, from the global namespace.
static void registerContinuaResources() { Q_INIT_RESOURCE(continua); }

namespace continua::ui {

QIcon applicationIcon() {
  static const bool registered = (registerContinuaResources(), true);
  (void)registered;
  QIcon icon;
  for (int size : {16, 22, 24, 32, 48, 64, 128, 256, 512})
    icon.addFile(QString(":/continua/icons/%1/continua.png").arg(size), QSize(size, size));
  return icon;
}

QMessageBox* makeAboutBox(QWidget* parent) {
  auto* box = new QMessageBox(parent);
  box->setObjectName("aboutBox");
  box->setWindowTitle("About Continua");
  box->setIconPixmap(applicationIcon().pixmap(96, 96));
  box->setTextFormat(Qt::RichText);
  box->setText(QString("<h3>Continua %1</h3><p>commit %2</p>").arg(CONTINUA_VERSION, CONTINUA_GIT_COMMIT));
  box->setInformativeText(
      "A workbench for meta-learning sequence models (Mamba, Transformers, S4, hybrids) as continual and "
      "in-context learners: configure and launch experiments, watch them train, see which earlier tokens a "
      "query relies on, measure length generalisation and compare saved runs."
      "<p>Free software under the GNU General Public License, version 3 or later.</p>");
  box->setStandardButtons(QMessageBox::Close);
  return box;
}

}  // namespace continua::ui
