#pragma once
// Experiment editor: a form generated from core's experiment schema (one widget per field, grouped by
// section), so a new field needs no UI code. Preset picker, validation shown at the field as you type,
// undo/redo, load/save JSON, and Run.
#include <nlohmann/json.hpp>

#include <QWidget>

#include <map>

class QComboBox;
class QLabel;
class QPushButton;
class QUndoStack;

namespace continua::ui {

class ExperimentEditor : public QWidget {
  Q_OBJECT
 public:
  explicit ExperimentEditor(QWidget* parent = nullptr);

  nlohmann::json config() const { return m_config; }
  void setConfig(const nlohmann::json& config);  // fills defaults; one undoable step
  bool isValid() const { return m_valid; }
  QUndoStack* undoStack() const { return m_undo; }
  // The field widget for a schema path (tests drive the form through it).
  QWidget* fieldWidget(const QString& path) const;
  QString fieldError(const QString& path) const;

 public slots:
  void loadPreset(const QString& name);
  bool loadFile(const QString& path);
  bool saveFile(const QString& path);
  void openDialog();
  void saveDialog();

 signals:
  void runRequested(const QString& configJson);
  void errorOccurred(const QString& message);

 private:
  friend class FieldEditCommand;
  void build();
  void applyValue(const std::string& path, const nlohmann::json& value);  // no undo entry
  void editValue(const std::string& path, const nlohmann::json& value);   // pushes an undo entry
  void refreshWidgets();
  void validate();

  nlohmann::json m_config;
  bool m_valid = true;
  bool m_updating = false;
  QUndoStack* m_undo;
  QComboBox* m_preset;
  QPushButton* m_run;
  QLabel* m_summary;
  std::map<std::string, QWidget*> m_widgets;
  std::map<std::string, QLabel*> m_errors;
};

}  // namespace continua::ui
