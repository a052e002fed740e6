// The add-a-book form's checks in the browser (served by bookshop.web as /static/form.js):
// a wrong ISBN is refused before the form is sent, and the price shows as it will be stored.
import { isbnProblem } from "./isbn.js";
import { pricePreview } from "./price.js";

const form = document.getElementById("add-book");
if (form) {
  const isbn = form.elements.namedItem("isbn");
  const price = form.elements.namedItem("price");
  const preview = document.getElementById("price-preview");
  const checkIsbn = () => isbn.setCustomValidity(isbnProblem(isbn.value));
  const showPrice = () => {
    preview.textContent = pricePreview(price.value);
  };
  isbn.addEventListener("input", checkIsbn);
  price.addEventListener("input", showPrice);
  checkIsbn();
  showPrice();
  form.dataset.ready = "true";
}
