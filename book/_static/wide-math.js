// Display equations wider than the text column. The theme lays out div.math as a
// reversed flex row, so the part of a too-wide equation that does not fit falls
// off its *left* edge, out of reach. For those equations only, let MathJax's
// container shrink to the column, which then scrolls sideways from the start.
(function () {
  function fit() {
    document.querySelectorAll('div.math > mjx-container[display="true"]').forEach(function (c) {
      if (c.getBoundingClientRect().width > c.parentElement.clientWidth + 1) {
        c.style.minWidth = "0";
      }
    });
  }
  function whenTypeset() {
    if (window.MathJax && MathJax.startup && MathJax.startup.promise) {
      MathJax.startup.promise.then(fit);
    } else {
      setTimeout(whenTypeset, 100);
    }
  }
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", whenTypeset);
  } else {
    whenTypeset();
  }
  window.addEventListener("resize", fit);
})();
