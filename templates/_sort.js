  // Sorts the students table by the column whose title is clicked (again: the other way).
  // Each cell's data-key holds what it sorts by; nothing is fetched.
  for (const table of document.querySelectorAll("table.sortable")) {
    const heads = [...table.tHead.rows[0].cells];
    heads.forEach((th, column) => {
      const button = th.querySelector("button");
      if (!button) return;
      button.addEventListener("click", () => {
        const up = th.getAttribute("aria-sort") !== "ascending";
        const numeric = button.dataset.sort === "number";
        const key = (row) => row.cells[column].dataset.key;
        const rows = [...table.tBodies[0].rows];
        rows.sort((a, b) => {
          const x = numeric ? Number(key(a)) - Number(key(b)) : key(a).localeCompare(key(b));
          return up ? x : -x;
        });
        heads.forEach((h) => h.querySelector("button") && h.setAttribute("aria-sort", "none"));
        th.setAttribute("aria-sort", up ? "ascending" : "descending");
        table.tBodies[0].append(...rows);
      });
    });
  }
