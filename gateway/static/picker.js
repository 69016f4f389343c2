/* Pickers of the admin screens, in plain JS (no library):
 *
 * - [data-product-picker]: a search box over a shop's products (商品番号・商品名称・カテゴリ), answered by the
 *   gateway's products JSON as the operator types. data-mode="single" (the purchase form) puts the chosen code in
 *   the hidden [data-picker-value] input and tells the form (event "product-picked"); data-mode="append" (the search
 *   panels' product rows) adds the code to the input named by data-target, comma separated.
 *   The shops searched: data-shop-id, or the checked boxes named data-shop-inputs (none checked: every shop).
 * - [data-filter-list]: a list of checkboxes (履歴選択) with a box that hides the entries not matching the text typed,
 *   and a count of those chosen.
 */
(function () {
  "use strict";

  var DELAY_MS = 200;

  function fold(text) {
    return (text || "").normalize("NFKC").toLowerCase();
  }

  function shopIds(picker) {
    if (picker.dataset.shopId) {
      return [picker.dataset.shopId];
    }
    var name = picker.dataset.shopInputs;
    if (!name) {
      return [];
    }
    var form = picker.closest("form") || document;
    return Array.prototype.map.call(form.querySelectorAll('input[name="' + name + '"]:checked'), function (box) {
      return box.value;
    });
  }

  function productPicker(picker, index) {
    var input = picker.querySelector(".picker-input");
    var value = picker.querySelector("[data-picker-value]");
    var list = picker.querySelector(".picker-list");
    var status = picker.querySelector(".picker-status");
    var mode = picker.dataset.mode || "single";
    var timer = null;
    var asked = 0;
    var products = [];
    var active = -1;

    list.id = list.id || "picker-list-" + index;
    input.setAttribute("role", "combobox");
    input.setAttribute("aria-autocomplete", "list");
    input.setAttribute("aria-controls", list.id);
    input.setAttribute("aria-expanded", "false");
    input.setAttribute("autocomplete", "off");

    function close() {
      list.hidden = true;
      input.setAttribute("aria-expanded", "false");
      input.removeAttribute("aria-activedescendant");
      active = -1;
    }

    function say(text) {
      if (status) {
        status.textContent = text;
      }
    }

    function highlight(position) {
      var options = list.querySelectorAll("[role=option]");
      if (!options.length) {
        return;
      }
      active = (position + options.length) % options.length;
      options.forEach(function (option, i) {
        option.setAttribute("aria-selected", i === active ? "true" : "false");
      });
      input.setAttribute("aria-activedescendant", options[active].id);
      options[active].scrollIntoView({block: "nearest"});
    }

    function show(answer) {
      products = answer.products;
      list.innerHTML = "";
      products.forEach(function (product, i) {
        var option = document.createElement("li");
        option.id = list.id + "-" + i;
        option.setAttribute("role", "option");
        option.dataset.code = product.code;
        var code = document.createElement("span");
        code.className = "code";
        code.textContent = product.code;
        var name = document.createElement("span");
        name.className = "name";
        name.textContent = product.name;
        var about = document.createElement("span");
        about.className = "about";
        about.textContent = product.category_name + " ・ " + product.price.toLocaleString() + "円";
        option.append(code, name, about);
        option.addEventListener("mousedown", function (event) {
          event.preventDefault(); // keep the focus in the box
          choose(i);
        });
        list.appendChild(option);
      });
      var more = answer.total - products.length;
      var footer = document.createElement("li");
      footer.className = "picker-note";
      footer.setAttribute("role", "presentation");
      footer.textContent = !products.length ? "該当する商品がありません。"
        : more > 0 ? "全" + answer.total.toLocaleString() + "件中" + products.length + "件を表示。続けて入力すると絞り込めます。"
          : answer.total.toLocaleString() + "件";
      list.appendChild(footer);
      list.hidden = false;
      input.setAttribute("aria-expanded", "true");
      say(products.length ? answer.total + "件の商品が見つかりました。" : "該当する商品がありません。");
      active = -1;
    }

    function search() {
      var params = new URLSearchParams();
      params.set("q", input.value.trim());
      shopIds(picker).forEach(function (id) {
        params.append("shop_id", id);
      });
      var number = ++asked;
      fetch(picker.dataset.url + "?" + params.toString(), {credentials: "same-origin",
                                                          headers: {"Accept": "application/json"}})
        .then(function (response) {
          var json = (response.headers.get("Content-Type") || "").indexOf("application/json") === 0;
          if (!json) {
            throw new Error("ログインの有効期限が切れました。画面を開き直してください。");
          }
          return response.json().then(function (answer) {
            if (!response.ok) {
              throw new Error(answer.message || "商品を検索できませんでした。");
            }
            return answer;
          });
        })
        .then(function (answer) {
          if (number === asked) {
            show(answer);
          }
        })
        .catch(function (failure) {
          if (number === asked) {
            list.innerHTML = "";
            var note = document.createElement("li");
            note.className = "picker-note error";
            note.textContent = failure.message;
            list.appendChild(note);
            list.hidden = false;
            say(failure.message);
          }
        });
    }

    function choose(i) {
      var product = products[i];
      if (!product) {
        return;
      }
      if (mode === "append") {
        var target = document.getElementById(picker.dataset.target);
        var codes = target.value.split(/[,、]/).map(function (c) { return c.trim(); }).filter(Boolean);
        if (codes.indexOf(product.code) < 0) {
          codes.push(product.code);
        }
        target.value = codes.join(", ");
        input.value = "";
        say(product.code + " を追加しました。");
      } else {
        value.value = product.code;
        input.value = product.code + ": " + product.name;
        input.dataset.picked = input.value;
        say(product.code + " を選択しました。");
        picker.dispatchEvent(new CustomEvent("product-picked", {bubbles: true, detail: product}));
      }
      close();
    }

    input.addEventListener("input", function () {
      if (mode === "single" && input.value !== input.dataset.picked) {
        if (value.value) {
          value.value = ""; // what is typed is a search, not a product: nothing is chosen until one is picked
          picker.dispatchEvent(new CustomEvent("product-picked", {bubbles: true, detail: null}));
        }
      }
      clearTimeout(timer);
      timer = setTimeout(search, DELAY_MS);
    });
    input.addEventListener("focus", function () {
      if (input.value === "" || input.value === input.dataset.picked) {
        clearTimeout(timer);
        timer = setTimeout(search, input.value === "" ? 0 : DELAY_MS);
      }
    });
    input.addEventListener("keydown", function (event) {
      if (event.key === "ArrowDown" || event.key === "ArrowUp") {
        event.preventDefault();
        if (list.hidden) {
          search();
        } else {
          highlight(active + (event.key === "ArrowDown" ? 1 : -1));
        }
      } else if (event.key === "Enter") {
        if (!list.hidden) {
          event.preventDefault(); // Enter picks; it does not send the form
          choose(active >= 0 ? active : (products.length === 1 ? 0 : -1));
        }
      } else if (event.key === "Escape") {
        close();
      }
    });
    input.addEventListener("blur", function () {
      close();
      if (mode === "single" && !value.value) {
        input.dataset.picked = "";
      }
    });
    input.dataset.picked = value && value.value ? input.value : "";
    var form = picker.closest("form");
    if (mode === "single" && form) {
      form.addEventListener("submit", function (event) {
        if (input.value.trim() && !value.value) { // typed but not picked: the line would be lost
          event.preventDefault();
          input.setAttribute("aria-invalid", "true");
          say("一覧から商品を選択してください。");
          input.focus();
        }
      });
      picker.addEventListener("product-picked", function () {
        input.removeAttribute("aria-invalid");
      });
    }
  }

  function filterList(box) {
    var filter = box.querySelector(".filter-input");
    var entries = box.querySelectorAll(".filter-entry");
    var count = box.querySelector(".filter-count");
    var empty = box.querySelector(".filter-empty");

    function chosen() {
      var n = box.querySelectorAll(".filter-entry input:checked").length;
      if (count) {
        count.textContent = n ? n + "件選択中" : "未選択（すべてのメールが対象）";
      }
    }

    filter.addEventListener("input", function () {
      var words = fold(filter.value).split(/\s+/).filter(Boolean);
      var shown = 0;
      entries.forEach(function (entry) {
        var text = fold(entry.textContent);
        var match = words.every(function (word) { return text.indexOf(word) >= 0; });
        entry.hidden = !match;
        shown += match ? 1 : 0;
      });
      if (empty) {
        empty.hidden = shown > 0;
      }
    });
    filter.addEventListener("keydown", function (event) {
      if (event.key === "Enter") {
        event.preventDefault(); // filtering, not searching
      }
    });
    box.addEventListener("change", chosen);
    chosen();
  }

  document.querySelectorAll("[data-product-picker]").forEach(productPicker);
  document.querySelectorAll("[data-filter-list]").forEach(filterList);
})();
