// The prompt: one window, above the others, that shows the oldest waiting
// request (who asks, what exactly, the agent's words, a warning for a
// deny-list override) and takes the person's answer. Later requests queue
// behind it. Deny is the default, and what Escape and closing do.
#pragma once

#include <QList>
#include <QWidget>
#include <functional>

#include "prompt_request.h"

class QCheckBox;
class QComboBox;
class QFrame;
class QLabel;
class QPushButton;

namespace airlock::gui {

class PromptWindow : public QWidget {
  Q_OBJECT

 public:
  explicit PromptWindow(QWidget* parent = nullptr);

  void add(const PromptRequest& request);
  // The portal no longer waits for ID: it leaves the queue unanswered.
  void remove(const QString& id);
  const QList<PromptRequest>& queue() const { return queue_; }
  // The request on screen, or nullptr.
  const PromptRequest* current() const { return queue_.isEmpty() ? nullptr : &queue_.first(); }

  // How "Choose another folder…" asks for one (a file chooser; tests
  // replace it). Returns "" when the person cancels.
  std::function<QString(QWidget* parent, const QString& start)> choose_folder;

 Q_SIGNALS:
  void answered(const QString& id, const airlock::gui::PromptAnswer& answer);
  void queue_changed(int count);

 protected:
  void keyPressEvent(QKeyEvent* event) override;
  void closeEvent(QCloseEvent* event) override;
  void changeEvent(QEvent* event) override;
  void resizeEvent(QResizeEvent* event) override;

 private:
  void build();
  void show_current();
  void finish(const PromptAnswer& answer);
  void allow(const QString& scope);
  void deny();
  void ask_always();
  void choose_narrower();
  void apply_style();
  void fit_height();

  QList<PromptRequest> queue_;
  QString narrower_;  // the path the person picked instead, if any

  QLabel* icon_ = nullptr;
  QLabel* title_ = nullptr;
  QLabel* subtitle_ = nullptr;
  QLabel* position_ = nullptr;
  QFrame* card_ = nullptr;
  QLabel* kind_icon_ = nullptr;
  QLabel* resource_ = nullptr;
  QLabel* access_ = nullptr;
  QPushButton* show_in_files_ = nullptr;
  QFrame* danger_ = nullptr;
  QLabel* danger_text_ = nullptr;
  QLabel* reason_caption_ = nullptr;
  QFrame* quote_ = nullptr;
  QLabel* reason_ = nullptr;
  QPushButton* choose_ = nullptr;
  QLabel* narrower_label_ = nullptr;
  QWidget* secret_row_ = nullptr;
  QComboBox* ttl_ = nullptr;
  QCheckBox* remember_ = nullptr;
  QFrame* confirm_ = nullptr;
  QLabel* confirm_text_ = nullptr;
  QPushButton* confirm_always_ = nullptr;
  QPushButton* cancel_always_ = nullptr;
  QPushButton* always_ = nullptr;
  QPushButton* deny_ = nullptr;
  QPushButton* allow_task_ = nullptr;
  QPushButton* allow_once_ = nullptr;
};

// A round badge with the profile's initial, its colour from its name: the
// same agent always looks the same.
QPixmap profile_badge(const QString& profile, int size, qreal device_pixel_ratio);

}  // namespace airlock::gui
