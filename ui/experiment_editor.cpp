#include "ui/experiment_editor.h"

#include "core/config/experiment_text.h"

#include "core/config/experiment_schema.h"

#include <QCheckBox>
#include <QComboBox>
#include <QDoubleSpinBox>
#include <QFile>
#include <QFileDialog>
#include <QFormLayout>
#include <QGroupBox>
#include <QHBoxLayout>
#include <QLabel>
#include <QLineEdit>
#include <QPushButton>
#include <QScrollArea>
#include <QSpinBox>
#include <QUndoStack>
#include <QVBoxLayout>

#include <cmath>
#include <limits>

namespace continua::ui {
using nlohmann::json;
using core::FieldType;

// One field edit; consecutive edits of the same field merge into one undo step.
class FieldEditCommand : public QUndoCommand {
 public:
  FieldEditCommand(ExperimentEditor* e, std::string path, json before, json after)
      : m_editor(e), m_path(std::move(path)), m_before(std::move(before)), m_after(std::move(after)) {
    setText(QString::fromStdString("edit " + m_path));
  }
  void undo() override { m_editor->applyValue(m_path, m_before); }
  void redo() override { m_editor->applyValue(m_path, m_after); }
  int id() const override { return 1; }
  bool mergeWith(const QUndoCommand* other) override {
    auto* o = dynamic_cast<const FieldEditCommand*>(other);
    if (!o || o->m_path != m_path) return false;
    m_after = o->m_after;
    return true;
  }

 private:
  ExperimentEditor* m_editor;
  std::string m_path;
  json m_before, m_after;
};

namespace {
QString listText(const json& v) {
  QStringList parts;
  if (v.is_array())
    for (const auto& e : v) parts << QString::fromStdString(e.dump());
  return parts.join(", ");
}

json parseList(const QString& text, bool integers) {
  json arr = json::array();
  for (const QString& p : text.split(',', Qt::SkipEmptyParts)) {
    bool ok = false;
    const QString t = p.trimmed();
    if (integers) {
      const qlonglong v = t.toLongLong(&ok);
      arr.push_back(ok ? json(v) : json(t.toStdString()));
    } else {
      const double v = t.toDouble(&ok);
      arr.push_back(ok ? json(v) : json(t.toStdString()));
    }
  }
  return arr;
}

QString groupTitle(const std::string& g) {
  static const std::map<std::string, QString> titles{
      {"name", "Run"}, {"seed", "Run"}, {"sweep", "Run"}, {"device", "Run"}, {"threads", "Run"}, {"task", "Task"}, {"data", "Data (MCL)"},
      {"episode", "Meta-training episode"}, {"eval_episode", "Meta-test episode"}, {"icl", "In-context learning"},
      {"model", "Model"}, {"optim", "Optimisation"}, {"selectivity", "Selectivity regularisation"},
      {"eval", "Evaluation"}, {"checkpoint", "Checkpoints"}};
  auto it = titles.find(g);
  return it == titles.end() ? QString::fromStdString(g) : it->second;
}
}  // namespace

ExperimentEditor::ExperimentEditor(QWidget* parent) : QWidget(parent) {
  m_undo = new QUndoStack(this);
  m_config = core::defaultExperiment();
  build();
  refreshWidgets();
  validate();
}

void ExperimentEditor::build() {
  m_preset = new QComboBox(this);
  m_preset->setObjectName("presetPicker");
  m_preset->addItem("(preset...)");
  for (const auto& n : core::presetNames()) {
    m_preset->addItem(QString::fromStdString(n));
    m_preset->setItemData(m_preset->count() - 1, QString::fromStdString(core::presetDescription(n)), Qt::ToolTipRole);
  }
  auto* load = new QPushButton("Load...", this);
  auto* save = new QPushButton("Save...", this);
  m_run = new QPushButton("Run", this);
  m_run->setObjectName("runButton");
  m_run->setDefault(true);
  m_summary = new QLabel(this);
  m_summary->setWordWrap(true);
  auto* top = new QHBoxLayout;
  top->addWidget(m_preset, 1);
  top->addWidget(load);
  top->addWidget(save);
  top->addWidget(m_run);

  auto* body = new QWidget;
  auto* bodyLayout = new QVBoxLayout(body);
  std::map<QString, QFormLayout*> forms;
  for (const auto& spec : core::experimentSchema()) {
    const QString title = groupTitle(spec.path.find('.') == std::string::npos ? spec.path : spec.group());
    if (!forms.count(title)) {
      auto* box = new QGroupBox(title, body);
      forms[title] = new QFormLayout(box);
      bodyLayout->addWidget(box);
    }
    QWidget* w = nullptr;
    const std::string path = spec.path;
    switch (spec.type) {
      case FieldType::Int: {
        auto* s = new QSpinBox;
        s->setRange(int(std::max(spec.min, double(std::numeric_limits<int>::min()))),
                    int(std::min(spec.max > spec.min ? spec.max : 1e9, double(std::numeric_limits<int>::max()))));
        if (!spec.zeroMeans.empty() && spec.min == 0) s->setSpecialValueText(QString::fromStdString(spec.zeroMeans));
        connect(s, &QSpinBox::valueChanged, this, [this, path](int v) { editValue(path, v); });
        w = s;
        break;
      }
      case FieldType::Double: {
        auto* s = new QDoubleSpinBox;
        s->setDecimals(6);
        s->setRange(spec.min, spec.max > spec.min ? spec.max : 1e12);
        s->setSingleStep(spec.max > spec.min ? std::max(1e-6, (spec.max - spec.min) / 1000.0) : 0.1);
        if (!spec.zeroMeans.empty() && spec.min == 0) s->setSpecialValueText(QString::fromStdString(spec.zeroMeans));
        connect(s, &QDoubleSpinBox::valueChanged, this, [this, path](double v) { editValue(path, v); });
        w = s;
        break;
      }
      case FieldType::Bool: {
        auto* c = new QCheckBox;
        connect(c, &QCheckBox::toggled, this, [this, path](bool v) { editValue(path, v); });
        w = c;
        break;
      }
      case FieldType::Choice: {
        auto* c = new QComboBox;
        for (const auto& choice : spec.choices) c->addItem(QString::fromStdString(choice));
        connect(c, &QComboBox::currentTextChanged, this, [this, path](const QString& v) { editValue(path, v.toStdString()); });
        w = c;
        break;
      }
      case FieldType::String:
      case FieldType::IntList:
      case FieldType::DoubleList: {
        auto* e = new QLineEdit;
        const FieldType t = spec.type;
        connect(e, &QLineEdit::textEdited, this, [this, path, t](const QString& v) {
          if (t == FieldType::String) editValue(path, v.toStdString());
          else editValue(path, parseList(v, t == FieldType::IntList));
        });
        w = e;
        break;
      }
    }
    w->setObjectName(QString::fromStdString("field:" + path));
    w->setToolTip(QString::fromStdString(spec.help));
    auto* error = new QLabel;
    error->setStyleSheet("color: #c62828;");
    error->setWordWrap(true);
    error->hide();
    auto* cell = new QWidget;
    auto* cl = new QVBoxLayout(cell);
    cl->setContentsMargins(0, 0, 0, 0);
    cl->setSpacing(1);
    cl->addWidget(w);
    cl->addWidget(error);
    const QString label = QString::fromStdString(spec.path.substr(spec.path.find('.') == std::string::npos ? 0 : spec.path.find('.') + 1));
    forms[title]->addRow(label, cell);
    m_widgets[path] = w;
    m_errors[path] = error;
  }
  bodyLayout->addStretch();
  auto* scroll = new QScrollArea(this);
  scroll->setWidget(body);
  scroll->setWidgetResizable(true);
  auto* lay = new QVBoxLayout(this);
  lay->setContentsMargins(2, 2, 2, 2);
  lay->addLayout(top);
  lay->addWidget(m_summary);
  lay->addWidget(scroll, 1);

  connect(m_preset, &QComboBox::activated, this, [this](int i) {
    if (i > 0) loadPreset(m_preset->itemText(i));
  });
  connect(load, &QPushButton::clicked, this, &ExperimentEditor::openDialog);
  connect(save, &QPushButton::clicked, this, &ExperimentEditor::saveDialog);
  connect(m_run, &QPushButton::clicked, this, [this] {
    if (m_valid) emit runRequested(QString::fromStdString(m_config.dump()));
  });
}

QWidget* ExperimentEditor::fieldWidget(const QString& path) const {
  auto it = m_widgets.find(path.toStdString());
  return it == m_widgets.end() ? nullptr : it->second;
}

QString ExperimentEditor::fieldError(const QString& path) const {
  auto it = m_errors.find(path.toStdString());
  return it == m_errors.end() || it->second->isHidden() ? QString() : it->second->text();
}

void ExperimentEditor::setConfig(const json& config) {
  const json before = m_config;
  const json after = core::withDefaults(config);
  struct Replace : QUndoCommand {
    Replace(ExperimentEditor* e, json b, json a) : e(e), b(std::move(b)), a(std::move(a)) { setText("load experiment"); }
    void undo() override { e->m_config = b; e->refreshWidgets(); e->validate(); }
    void redo() override { e->m_config = a; e->refreshWidgets(); e->validate(); }
    ExperimentEditor* e;
    json b, a;
  };
  m_undo->push(new Replace(this, before, after));
}

void ExperimentEditor::loadPreset(const QString& name) {
  try {
    setConfig(core::presetExperiment(name.toStdString()));
    m_preset->setCurrentText(name);
  } catch (const std::exception& e) {
    emit errorOccurred(e.what());
  }
}

bool ExperimentEditor::loadFile(const QString& path) {
  QFile f(path);
  if (!f.open(QIODevice::ReadOnly)) {
    emit errorOccurred(path + ": cannot be opened: " + f.errorString());
    return false;
  }
  json j;
  try {
    j = core::parseExperimentText(f.readAll().toStdString(), path.toStdString());
  } catch (const std::exception& e) {
    emit errorOccurred(QString::fromStdString(e.what()));
    return false;
  }
  if (!j.is_object()) {
    emit errorOccurred(path + ": not a JSON object");
    return false;
  }
  setConfig(j);
  return true;
}

bool ExperimentEditor::saveFile(const QString& path) {
  QFile f(path);
  if (!f.open(QIODevice::WriteOnly | QIODevice::Text)) {
    emit errorOccurred(path + ": cannot be written: " + f.errorString());
    return false;
  }
  f.write(QByteArray::fromStdString(m_config.dump(2) + "\n"));
  m_undo->setClean();
  return true;
}

void ExperimentEditor::openDialog() {
  const QString p = QFileDialog::getOpenFileName(this, "Load experiment", {}, "Experiment JSON (*.json)");
  if (!p.isEmpty()) loadFile(p);
}

void ExperimentEditor::saveDialog() {
  const QString p = QFileDialog::getSaveFileName(this, "Save experiment", "experiment.json", "Experiment JSON (*.json)");
  if (!p.isEmpty()) saveFile(p);
}

void ExperimentEditor::applyValue(const std::string& path, const json& value) {
  core::setPath(m_config, path, value);
  refreshWidgets();
  validate();
}

void ExperimentEditor::editValue(const std::string& path, const json& value) {
  if (m_updating) return;
  const json before = core::getPath(m_config, path);
  if (before == value) return;
  m_undo->push(new FieldEditCommand(this, path, before, value));
}

void ExperimentEditor::refreshWidgets() {
  m_updating = true;
  for (const auto& spec : core::experimentSchema()) {
    QWidget* w = m_widgets[spec.path];
    const json v = core::getPath(m_config, spec.path);
    if (auto* s = qobject_cast<QSpinBox*>(w)) { if (v.is_number()) s->setValue(v.get<int>()); }
    else if (auto* d = qobject_cast<QDoubleSpinBox*>(w)) { if (v.is_number()) d->setValue(v.get<double>()); }
    else if (auto* c = qobject_cast<QCheckBox*>(w)) { if (v.is_boolean()) c->setChecked(v.get<bool>()); }
    else if (auto* b = qobject_cast<QComboBox*>(w)) { if (v.is_string()) b->setCurrentText(QString::fromStdString(v.get<std::string>())); }
    else if (auto* e = qobject_cast<QLineEdit*>(w)) {
      const QString text = v.is_string() ? QString::fromStdString(v.get<std::string>()) : listText(v);
      if (e->text() != text && !e->hasFocus()) e->setText(text);
    }
  }
  m_updating = false;
}

void ExperimentEditor::validate() {
  for (auto& [path, label] : m_errors) {
    label->hide();
    m_widgets[path]->setStyleSheet({});
  }
  auto issues = core::validateExperiment(m_config);
  for (const auto& i : issues) {
    auto it = m_errors.find(i.path);
    if (it == m_errors.end()) continue;
    it->second->setText(QString::fromStdString(i.message));
    it->second->show();
    m_widgets[i.path]->setStyleSheet("border: 1px solid #c62828;");
  }
  m_valid = issues.empty();
  m_run->setEnabled(m_valid);
  m_summary->setText(m_valid ? QString("%1: %2 on %3, %4 steps")
                                   .arg(QString::fromStdString(m_config["name"].get<std::string>()),
                                        QString::fromStdString(m_config["model"]["family"].get<std::string>()),
                                        QString::fromStdString(m_config["task"]["family"] == "icl" ? m_config["task"]["icl_task"].get<std::string>()
                                                                                                     : "MCL " + m_config["data"]["kind"].get<std::string>()))
                                   .arg(m_config["optim"]["steps"].get<int64_t>())
                             : QString("<span style='color:#c62828'>%1 problem(s): see the fields marked in red</span>").arg(issues.size()));
}

}  // namespace continua::ui
