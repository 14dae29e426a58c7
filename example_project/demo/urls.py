from django.urls import path

from demo import views

urlpatterns = [
    path("", views.home, name="home"),
    path("pricing/", views.pricing, name="pricing"),
    path("accounts/signup/", views.sign_up, name="signup"),
    path("data/", views.data_product, name="data_product"),
    path("blog/first-post/", views.blog_post, name="blog_post"),
    path("ebooks/demo.txt", views.ebook_download, name="ebook_download"),
]
