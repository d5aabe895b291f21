// The widget embedder finds its fonts next to its AMD module, which RequireJS
// places under the page's own folder unless told otherwise: point it at the
// copy served with the book (the folder "widgets" beside this script).
(function () {
  var here = document.currentScript.src.split("?")[0];
  var dir = here.slice(0, here.lastIndexOf("/") + 1) + "widgets";
  require.config({ paths: { "@jupyter-widgets/html-manager/dist": dir } });
})();
