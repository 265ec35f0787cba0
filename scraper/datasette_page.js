document.addEventListener("DOMContentLoaded", () => {
  const rowTable = document.querySelector("body.row table.rows-and-columns");
  if (rowTable) {
    const names = [...rowTable.querySelectorAll("thead th")].map((th) => th.dataset.column || th.textContent.trim());
    rowTable.querySelectorAll("tbody td").forEach((td, index) => { td.dataset.label = names[index] || ""; });
    rowTable.classList.add("as-card");
  }
  const id = document.querySelector("body.row.table-articles td.col-id");
  const record = document.querySelector("body.row.table-articles td.col-record");
  if (id && record) {  // articles.record keeps only what has no column: the whole record comes from the view
    fetch("../article_records.json?_shape=array&id=" + encodeURIComponent(id.textContent.trim()))
      .then((response) => response.json())
      .then(([row]) => {
        const pre = document.createElement("pre");
        pre.className = "record-json";
        pre.textContent = JSON.stringify(JSON.parse(row.record), null, 2);
        record.replaceChildren(pre);
      })
      .catch(() => { /* the cell stays as it is */ });
  }
  const descriptions = document.querySelector("body.table dl.column-descriptions");
  if (descriptions) {
    const details = document.createElement("details");
    details.className = "column-descriptions";
    details.innerHTML = "<summary>Columns</summary>";
    descriptions.replaceWith(details);
    details.append(descriptions);
  }
});
