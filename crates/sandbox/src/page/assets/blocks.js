// Block Kit and Slack mrkdwn, rendered as DOM nodes. Text only ever becomes text
// nodes (never HTML), so nothing a message says can inject markup.
"use strict";

window.Blocks = (() => {
  const el = (tag, className, text) => {
    const node = document.createElement(tag);
    if (className) node.className = className;
    if (text !== undefined) node.textContent = text;
    return node;
  };

  // Slack escapes these three in message text.
  const unescape = (text) =>
    text.replace(/&lt;/g, "<").replace(/&gt;/g, ">").replace(/&amp;/g, "&");

  const SAFE_URL = /^(https?:|mailto:)/i;

  // `<…>`: a mention, a channel, a special mention, or a link.
  function angle(inner, ctx) {
    const [target, label] = inner.split("|", 2);
    if (target.startsWith("@")) {
      return el("span", "mention", "@" + ctx.userName(target.slice(1)));
    }
    if (target.startsWith("#")) {
      return el("span", "mention", "#" + (label || target.slice(1)));
    }
    if (target.startsWith("!")) {
      return el("span", "mention", "@" + (label || target.slice(1).split("^")[0]));
    }
    if (!SAFE_URL.test(target)) return document.createTextNode(unescape(label || target));
    const link = el("a", null, unescape(label || target));
    link.href = unescape(target);
    link.target = "_blank";
    link.rel = "noopener";
    return link;
  }

  // One inline token: <…>, `code`, *bold*, _italic_, ~strike~ (the last three only
  // at word boundaries, as Slack does, so snake_case stays as it is).
  const INLINE = /<([^<>\n]+)>|`([^`\n]+)`|(?<!\w)\*([^*\n]+)\*(?!\w)|(?<!\w)_([^_\n]+)_(?!\w)|(?<!\w)~([^~\n]+)~(?!\w)/g;

  function inline(text, ctx, into) {
    let last = 0;
    for (const match of text.matchAll(INLINE)) {
      if (match.index > last) into.append(unescape(text.slice(last, match.index)));
      const [, link, code, bold, italic, strike] = match;
      if (link !== undefined) into.append(angle(link, ctx));
      else if (code !== undefined) into.append(el("code", null, unescape(code)));
      else {
        const node = el(bold !== undefined ? "strong" : italic !== undefined ? "em" : "s");
        inline(bold ?? italic ?? strike, ctx, node);
        into.append(node);
      }
      last = match.index + match[0].length;
    }
    if (last < text.length) into.append(unescape(text.slice(last)));
  }

  // Slack mrkdwn: ```preformatted``` blocks, then inline formatting.
  function mrkdwn(text, ctx) {
    const out = document.createDocumentFragment();
    const parts = String(text).split("```");
    parts.forEach((part, index) => {
      if (index % 2 === 1 && index < parts.length - 1) {
        out.append(el("pre", null, unescape(part.replace(/^\n/, "").replace(/\n$/, ""))));
      } else {
        inline(index % 2 === 1 ? "```" + part : part, ctx, out);
      }
    });
    return out;
  }

  function textObject(object, ctx) {
    if (!object) return document.createTextNode("");
    return object.type === "mrkdwn"
      ? mrkdwn(object.text || "", ctx)
      : document.createTextNode(object.text || "");
  }

  function button(element, block, ctx) {
    const style = element.style ? " " + element.style : "";
    const label = (element.text && element.text.text) || "Button";
    if (element.url && SAFE_URL.test(element.url)) {
      const link = el("a", "block-button" + style, label);
      link.href = element.url;
      link.target = "_blank";
      link.rel = "noopener";
      return link;
    }
    const node = el("button", "block-button" + style, label);
    node.type = "button";
    node.addEventListener("click", () => ctx.onButton(element, block, node));
    return node;
  }

  function element(item, block, ctx) {
    if (item.type === "button") return button(item, block, ctx);
    if (item.type === "image") {
      const image = el("img");
      image.alt = item.alt_text || "";
      image.src = item.image_url || "";
      image.width = 16;
      return image;
    }
    if (item.type === "mrkdwn" || item.type === "plain_text") {
      const span = el("span");
      span.append(textObject(item, ctx));
      return span;
    }
    return el("span", "unsupported", "(a " + item.type + " element the sandbox page does not show)");
  }

  const RENDERERS = {
    section(block, ctx) {
      const node = el("div", "section");
      if (block.text) node.append(textObject(block.text, ctx));
      if (block.fields) {
        const fields = el("div", "fields");
        block.fields.forEach((field) => {
          const cell = el("div");
          cell.append(textObject(field, ctx));
          fields.append(cell);
        });
        node.append(fields);
      }
      if (block.accessory) node.append(" ", element(block.accessory, block, ctx));
      return node;
    },
    context(block, ctx) {
      const node = el("div", "context");
      (block.elements || []).forEach((item) => node.append(element(item, block, ctx)));
      return node;
    },
    actions(block, ctx) {
      const node = el("div", "actions");
      (block.elements || []).forEach((item) => node.append(element(item, block, ctx)));
      return node;
    },
    divider() {
      return el("hr");
    },
    header(block, ctx) {
      const node = el("div", "header");
      node.append(textObject(block.text, ctx));
      return node;
    },
  };

  // A message's blocks, or its text when it has none (as Slack shows it).
  function render(blocks, text, ctx) {
    const out = el("div", "content");
    if (!blocks || blocks.length === 0) {
      out.append(mrkdwn(text || "", ctx));
      return out;
    }
    blocks.forEach((block) => {
      const renderer = RENDERERS[block.type];
      out.append(
        renderer
          ? renderer(block, ctx)
          : el("div", "unsupported", "(a " + block.type + " block the sandbox page does not show)"),
      );
    });
    return out;
  }

  return { render, mrkdwn };
})();
